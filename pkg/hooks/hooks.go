// Package hooks runs a release's hooks: ordered by weight, then kind, then name; awaited (Jobs
// to completion, Pods to Succeeded, anything else until kstatus says Current); with delete and
// failure policies.
package hooks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/health"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// Outcome of one hook run.
type Outcome struct {
	Name, Kind    string
	Phase         string
	Weight        int
	Started       time.Time
	Finished      time.Time
	Succeeded     bool
	Message       string
	FailurePolicy string
	Logs          string
}

// Event is a hook's progress.
type Event struct {
	Hook   manifest.Key
	Phase  string
	Action string // running, succeeded, failed, deleted
	Detail string
}

// Runner runs hooks of one release.
type Runner struct {
	Client           *apply.Client
	Typed            kubernetes.Interface // for pod logs
	Release          string
	ReleaseNamespace string
	Observe          func(Event)
	// KeepGoing runs every hook even after a failure (for tests).
	KeepGoing bool
	// AlwaysLogs collects the pods' logs of every hook, not only of failed ones.
	AlwaysLogs bool
}

// FailedError is a hook that failed with failure policy fail or rollback.
type FailedError struct {
	Outcome  Outcome
	Rollback bool // the hook's policy asks for the operation to be rolled back
}

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("%s hook %s/%s failed: %s", e.Outcome.Phase, e.Outcome.Kind, e.Outcome.Name, e.Outcome.Message)
	if e.Outcome.Logs != "" {
		msg += "\nlast lines of its logs:\n" + e.Outcome.Logs
	}
	return msg
}

// ForPhase keeps the hooks that run in phase, in run order.
func ForPhase(hooks []*manifest.Object, phase string) ([]*manifest.Object, error) {
	type item struct {
		obj    *manifest.Object
		weight int
	}
	var items []item
	for _, h := range hooks {
		ann, err := manifest.ParseAnnotations(h)
		if err != nil {
			return nil, err
		}
		for _, p := range ann.HookPhases {
			if p == phase {
				items = append(items, item{h, ann.HookWeight})
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.weight != b.weight {
			return a.weight < b.weight
		}
		if a.obj.GetKind() != b.obj.GetKind() {
			return a.obj.GetKind() < b.obj.GetKind()
		}
		return a.obj.GetName() < b.obj.GetName()
	})
	out := make([]*manifest.Object, len(items))
	for i, it := range items {
		out[i] = it.obj
	}
	return out, nil
}

// Run runs the hooks of a phase: weight by weight, hooks of one weight in parallel. It stops at
// the first hook that fails with policy fail or rollback; failures with policy continue are
// recorded and the run goes on.
func (r *Runner) Run(ctx context.Context, all []*manifest.Object, phase string) ([]Outcome, error) {
	ordered, err := ForPhase(all, phase)
	if err != nil {
		return nil, err
	}
	var outcomes []Outcome
	for i := 0; i < len(ordered); {
		w := weightOf(ordered[i])
		j := i
		for j < len(ordered) && weightOf(ordered[j]) == w {
			j++
		}
		batch := ordered[i:j]
		res := make([]Outcome, len(batch))
		var wg sync.WaitGroup
		for k, h := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[k] = r.runOne(ctx, h.DeepCopyObject().(*unstructured.Unstructured), h, phase)
			}()
		}
		wg.Wait()
		outcomes = append(outcomes, res...)
		for _, o := range res {
			if !o.Succeeded && o.FailurePolicy != "continue" && !r.KeepGoing {
				return outcomes, &FailedError{Outcome: o, Rollback: o.FailurePolicy == "rollback"}
			}
		}
		i = j
	}
	return outcomes, nil
}

func weightOf(o *manifest.Object) int {
	a, _ := manifest.ParseAnnotations(o)
	return a.HookWeight
}

func (r *Runner) emit(ev Event) {
	if r.Observe != nil {
		r.Observe(ev)
	}
}

func (r *Runner) runOne(ctx context.Context, u *unstructured.Unstructured, orig *manifest.Object, phase string) Outcome {
	ann, _ := manifest.ParseAnnotations(orig)
	obj := &manifest.Object{Unstructured: u, Source: orig.Source}
	out := Outcome{Name: u.GetName(), Kind: u.GetKind(), Phase: phase, Weight: ann.HookWeight, Started: time.Now().UTC(), FailurePolicy: ann.HookFailurePolicy}
	finish := func(ok bool, msg string) Outcome {
		out.Finished, out.Succeeded, out.Message = time.Now().UTC(), ok, msg
		return out
	}
	if ann.HookTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ann.HookTimeout)
		defer cancel()
	}
	isCRD := u.GetKind() == "CustomResourceDefinition"
	delOpts := apply.DeleteOptions{ReleaseName: r.Release, ReleaseNamespace: r.ReleaseNamespace, Wait: true}
	if has(ann.HookDeletePolicies, "before-hook-creation") && !isCRD {
		if _, err := r.Client.Delete(ctx, []*manifest.Object{obj}, delOpts); err != nil {
			return finish(false, "could not delete the previous run: "+err.Error())
		}
	}
	r.emit(Event{Hook: obj.Key(), Phase: phase, Action: "running"})
	if _, err := r.Client.ApplyStep(ctx, []*manifest.Object{obj}, apply.Options{ReleaseName: r.Release, ReleaseNamespace: r.ReleaseNamespace, Force: true, TakeOwnership: false}); err != nil {
		r.emit(Event{Hook: obj.Key(), Phase: phase, Action: "failed", Detail: err.Error()})
		return finish(false, err.Error())
	}
	waiter := &health.Waiter{Client: r.Client, Judge: judgeHook}
	werr := waiter.Wait(ctx, []*manifest.Object{obj})
	ok := werr == nil
	msg := "completed"
	if !ok {
		msg = reason(werr)
	}
	// What follows the run (its logs, its deletion) may outlive a run that timed out or was
	// interrupted, but never by more than cleanupBudget.
	after, cancel := afterRun(ctx)
	defer cancel()
	if !ok || r.AlwaysLogs {
		out.Logs = r.logs(after, u)
	}
	action := "succeeded"
	if !ok {
		action = "failed"
	}
	r.emit(Event{Hook: obj.Key(), Phase: phase, Action: action, Detail: msg})
	if !isCRD && ((ok && has(ann.HookDeletePolicies, "hook-succeeded")) || (!ok && has(ann.HookDeletePolicies, "hook-failed"))) {
		if _, err := r.Client.Delete(after, []*manifest.Object{obj}, delOpts); err == nil {
			r.emit(Event{Hook: obj.Key(), Phase: phase, Action: "deleted"})
		}
	}
	return finish(ok, msg)
}

// cleanupBudget bounds the logs and deletion of a hook after its context ended (a timeout,
// a signal); without a deadline they get cleanupNoDeadline.
const (
	cleanupBudget     = 10 * time.Second
	cleanupNoDeadline = 2 * time.Minute
)

// afterRun is what is left of ctx's deadline (the operation's --timeout), or cleanupBudget once
// ctx has ended; its values (the lock's write guard among them) are kept.
func afterRun(ctx context.Context) (context.Context, context.CancelFunc) {
	d := cleanupBudget
	if ctx.Err() == nil {
		d = cleanupNoDeadline
		if dl, ok := ctx.Deadline(); ok {
			d = time.Until(dl)
		}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

func reason(err error) string {
	var nr *health.NotReadyError
	if errors.As(err, &nr) && len(nr.States) > 0 {
		s := nr.States[0]
		if nr.Failed {
			return s.Message
		}
		return fmt.Sprintf("did not finish within %s (%s: %s)", nr.Timeout, s.Status, s.Message)
	}
	return err.Error()
}

// judgeHook: a Pod is done when Succeeded (not merely Ready); a Job when Complete; anything else
// when kstatus says Current.
func judgeHook(u *unstructured.Unstructured) health.State {
	// A hook Job is done only when it completes (the same rule as every wait's).
	s := health.JudgeCompletion(u)
	if u.GetKind() == "Pod" && u.GroupVersionKind().Group == "" {
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		switch phase {
		case "Succeeded":
			s.Status, s.Message = status.CurrentStatus, "Pod succeeded"
		case "Failed":
			s.Status, s.Message = status.FailedStatus, "Pod failed"
		default:
			s.Status, s.Message = status.InProgressStatus, "Pod is "+phase
		}
	}
	return s
}

// logs returns the last lines of the hook's pods (a Job's pods, or the Pod itself).
func (r *Runner) logs(ctx context.Context, u *unstructured.Unstructured) string {
	if r.Typed == nil {
		return ""
	}
	ns := u.GetNamespace()
	var pods []string
	switch u.GetKind() {
	case "Pod":
		pods = []string{u.GetName()}
	case "Job":
		list, err := r.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + u.GetName()})
		if err != nil {
			return ""
		}
		for _, p := range list.Items {
			pods = append(pods, p.Name)
		}
	}
	var b strings.Builder
	tail := int64(20)
	for _, p := range pods {
		raw, err := r.Typed.CoreV1().Pods(ns).GetLogs(p, &corev1.PodLogOptions{TailLines: &tail}).DoRaw(ctx)
		if err != nil {
			fmt.Fprintf(&b, "  (pod %s: logs unavailable: %v)\n", p, firstLine(err.Error()))
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(raw)))
		for sc.Scan() {
			fmt.Fprintf(&b, "  %s: %s\n", p, sc.Text())
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
