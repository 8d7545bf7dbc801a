package health

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// kindRules are the kinds whose readiness kstatus does not judge the way a release needs:
// a Job is ready when it has completed (kstatus calls a running Job Current), a CronJob as
// soon as it exists (it has nothing to become ready).
var kindRules = map[schema.GroupKind]func(*unstructured.Unstructured, State) State{
	{Group: "batch", Kind: "Job"}:     judgeJob,
	{Group: "batch", Kind: "CronJob"}: judgeCronJob,
}

// JudgeCompletion is Judge with the kind rules above: Jobs are awaited to completion.
func JudgeCompletion(u *unstructured.Unstructured) State {
	s := Judge(u)
	if rule, ok := kindRules[u.GroupVersionKind().GroupKind()]; ok {
		return rule(u, s)
	}
	return s
}

// JudgeJobsOnStart is kstatus alone (a started Job counts as ready): --wait-for-jobs=false.
func JudgeJobsOnStart(u *unstructured.Unstructured) State {
	s := Judge(u)
	if u.GroupVersionKind().GroupKind() == (schema.GroupKind{Group: "batch", Kind: "CronJob"}) {
		return judgeCronJob(u, s)
	}
	return s
}

// judgeJob: Complete is ready, Failed (backoff limit, deadline) is failed, anything else runs.
func judgeJob(u *unstructured.Unstructured, s State) State {
	if s.Status == status.TerminatingStatus {
		return s
	}
	succeeded, _, _ := unstructured.NestedInt64(u.Object, "status", "succeeded")
	active, _, _ := unstructured.NestedInt64(u.Object, "status", "active")
	failed, _, _ := unstructured.NestedInt64(u.Object, "status", "failed")
	s.Status = status.InProgressStatus
	s.Message = fmt.Sprintf("Job running: %d active, %d succeeded, %d failed", active, succeeded, failed)
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "Complete":
			s.Status, s.Message = status.CurrentStatus, fmt.Sprintf("Job completed (%d succeeded)", succeeded)
			return s
		case "Failed":
			reason, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			s.Status, s.Message = status.FailedStatus, strings.TrimSpace("Job failed: "+reason+": "+msg)
			return s
		}
	}
	return s
}

func judgeCronJob(_ *unstructured.Unstructured, s State) State {
	if s.Status == status.TerminatingStatus {
		return s
	}
	s.Status, s.Message = status.CurrentStatus, "CronJob created"
	return s
}

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// FailedPodReason says why a failed Job's pods failed: the first failed pod, its phase reason
// and the terminated container's reason and exit code ("" when no pod tells).
func FailedPodReason(ctx context.Context, dc dynamic.Interface, namespace, job string) string {
	if dc == nil {
		return ""
	}
	list, err := dc.Resource(podsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil {
		return ""
	}
	for _, p := range list.Items {
		phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
		if phase != "Failed" {
			continue
		}
		parts := []string{"pod " + p.GetName() + " failed"}
		if r, _, _ := unstructured.NestedString(p.Object, "status", "reason"); r != "" {
			parts = append(parts, r)
		}
		statuses, _, _ := unstructured.NestedSlice(p.Object, "status", "containerStatuses")
		for _, cs := range statuses {
			m, _ := cs.(map[string]any)
			term, _, _ := unstructured.NestedMap(m, "state", "terminated")
			if term == nil {
				continue
			}
			name, _ := m["name"].(string)
			reason, _ := term["reason"].(string)
			code, _, _ := unstructured.NestedInt64(term, "exitCode")
			d := fmt.Sprintf("container %s terminated", name)
			if reason != "" {
				d += ": " + reason
			}
			d += fmt.Sprintf(" (exit code %d)", code)
			if msg, _ := term["message"].(string); msg != "" {
				d += ": " + strings.TrimSpace(msg)
			}
			parts = append(parts, d)
		}
		return strings.Join(parts, ", ")
	}
	return ""
}
