// Package health decides when applied objects are ready (kstatus for any kind, custom HTTP and
// command checks) and waits for it with watches, reporting progress as it goes.
package health

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

// State of one object while waiting.
type State struct {
	Key     manifest.Key
	Status  status.Status // Current, InProgress, Failed, Terminating, NotFound, Unknown
	Message string
}

// Ready tells whether the object counts as healthy.
func (s State) Ready() bool { return s.Status == status.CurrentStatus }

// Judge computes an object's health with kstatus.
func Judge(u *unstructured.Unstructured) State {
	k := manifest.Key{Group: u.GroupVersionKind().Group, Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	res, err := status.Compute(u)
	if err != nil {
		return State{Key: k, Status: status.UnknownStatus, Message: err.Error()}
	}
	msg := res.Message
	if res.Status == status.FailedStatus {
		if why := failureCondition(u); why != "" {
			msg = why
		}
	}
	return State{Key: k, Status: res.Status, Message: msg}
}

// failureCondition is the object's own account of its failure (ProgressDeadlineExceeded:
// ReplicaSet "x" has timed out progressing), when it gives one.
func failureCondition(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		t, st := m["type"], m["status"]
		if (t == "Progressing" && st == "False") || (t == "Failed" && st == "True") || (t == "Ready" && st == "False") {
			reason, _ := m["reason"].(string)
			message, _ := m["message"].(string)
			if reason != "" || message != "" {
				return strings.TrimSpace(reason + ": " + message)
			}
		}
	}
	return ""
}

// NotReadyError lists every object that did not become ready, with its reason.
type NotReadyError struct {
	States  []State
	Timeout time.Duration
	Failed  bool // ended early because kstatus said Failed
}

func (e *NotReadyError) Error() string {
	var b strings.Builder
	if e.Failed {
		b.WriteString("an object failed")
	} else {
		fmt.Fprintf(&b, "not ready within %s (--timeout)", e.Timeout)
	}
	for _, s := range e.States {
		fmt.Fprintf(&b, "\n  %s: %s", s.Key, s.Status)
		if s.Message != "" {
			fmt.Fprintf(&b, ": %s", s.Message)
		}
	}
	return b.String()
}

// Waiter waits for objects to be ready.
type Waiter struct {
	Client *apply.Client
	// Observe is told of every change of an object's state.
	Observe func(State)
	// Judge decides an object's state (default: JudgeCompletion, kstatus with Jobs awaited
	// to completion; JudgeJobsOnStart with JobsReadyOnStart).
	Judge func(*unstructured.Unstructured) State
	// JobsReadyOnStart counts a started Job as ready (--wait-for-jobs=false).
	JobsReadyOnStart bool
}

type group struct {
	ri interface {
		List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error)
		Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
	}
	selector string
	names    map[string]manifest.Key
	judge    func(*unstructured.Unstructured) State
}

// Wait returns when every object is Current, at once when one is Failed, or at ctx's deadline
// with every object not yet ready named. One list and one watch per resource and namespace.
func (w *Waiter) Wait(ctx context.Context, objs []*manifest.Object) error {
	if len(objs) == 0 {
		return nil
	}
	start := time.Now()
	groups := map[string]*group{}
	pending := map[manifest.Key]State{}
	for _, o := range objs {
		cp := o.DeepCopy()
		ri, m, err := w.Client.Resource(cp, o.GetNamespace())
		if err != nil {
			return fmt.Errorf("%s: %w", o.Key(), err)
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = cp.GetNamespace()
		}
		gk := m.Resource.String() + "|" + ns
		g := groups[gk]
		if g == nil {
			sel := ""
			if rel := o.GetLabels()[apply.LabelReleaseName]; rel != "" {
				sel = labels.Set{apply.LabelReleaseName: rel}.String()
			}
			judge := w.Judge
			switch {
			case judge != nil:
			case w.JobsReadyOnStart:
				judge = JudgeJobsOnStart
			default:
				judge = JudgeCompletion
			}
			g = &group{ri: ri, selector: sel, names: map[string]manifest.Key{}, judge: judge}
			groups[gk] = g
		}
		g.names[cp.GetName()] = o.Key()
		pending[o.Key()] = State{Key: o.Key(), Status: status.UnknownStatus, Message: "not seen yet"}
	}
	updates := make(chan State, 64)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	errCh := make(chan error, len(groups))
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watchGroup(ctx, g, updates); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
				errCh <- err
			}
		}()
	}
	last := map[manifest.Key]State{}
	for {
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return w.timeout(pending, time.Since(start))
		case err := <-errCh:
			return err
		case s := <-updates:
			if _, waiting := pending[s.Key]; !waiting {
				continue
			}
			if prev, ok := last[s.Key]; !ok || prev.Status != s.Status || prev.Message != s.Message {
				last[s.Key] = s
				if w.Observe != nil {
					w.Observe(s)
				}
			}
			if s.Ready() {
				delete(pending, s.Key)
				continue
			}
			pending[s.Key] = s
			if s.Status == status.FailedStatus {
				if s.Key.Kind == "Job" && s.Key.Group == "batch" && w.Client != nil {
					if why := FailedPodReason(ctx, w.Client.Dynamic, s.Key.Namespace, s.Key.Name); why != "" {
						s.Message += "; " + why
					}
				}
				return &NotReadyError{States: []State{s}, Failed: true}
			}
		}
	}
}

func (w *Waiter) timeout(pending map[manifest.Key]State, d time.Duration) error {
	var states []State
	for _, s := range pending {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Key.String() < states[j].Key.String() })
	return &NotReadyError{States: states, Timeout: d.Round(time.Second)}
}

// watchGroup lists then watches one resource in one namespace, sending the state of the
// objects it is asked about. A watch that ends (cut, or closed by the server) is resumed from the
// last resourceVersion seen; an expired one starts again from a new list. An API server that is
// busy or unreachable is waited for, with backoff, until the context ends.
func watchGroup(ctx context.Context, g *group, out chan<- State) error {
	failures := 0
	pause := func() bool {
		failures++
		d := min(100*time.Millisecond<<min(failures, 6), 5*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	rv, needList := "", true
	for {
		if needList {
			list, err := g.ri.List(ctx, metav1.ListOptions{LabelSelector: g.selector})
			if err != nil {
				if retry.Transient(err) && pause() {
					continue
				}
				return err
			}
			if !g.sendList(ctx, list, out) {
				return ctx.Err()
			}
			rv, needList = list.GetResourceVersion(), false
		}
		wi, err := g.ri.Watch(ctx, metav1.ListOptions{LabelSelector: g.selector, ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			switch {
			case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
				needList = true
			case retry.Transient(err) && pause():
			default:
				return err
			}
			continue
		}
		began := time.Now()
		r := drain(ctx, wi, g, out)
		wi.Stop()
		if r.done {
			return ctx.Err()
		}
		if r.rv != "" {
			rv = r.rv
		}
		needList = r.expired
		// A watch that delivered or lasted ended normally; one that closes at once, again and
		// again, is a server in trouble: do not hammer it.
		if r.events > 0 || time.Since(began) > 100*time.Millisecond {
			failures = 0
		} else if !pause() {
			return ctx.Err()
		}
	}
}

// sendList sends the state of the wanted objects of a list, NotFound for those missing.
func (g *group) sendList(ctx context.Context, list *unstructured.UnstructuredList, out chan<- State) bool {
	seen := map[string]bool{}
	for i := range list.Items {
		u := &list.Items[i]
		if _, ok := g.names[u.GetName()]; ok {
			seen[u.GetName()] = true
			if !send(ctx, out, g.judge(u)) {
				return false
			}
		}
	}
	for name, k := range g.names {
		if !seen[name] {
			if !send(ctx, out, State{Key: k, Status: status.NotFoundStatus, Message: "does not exist (yet)"}) {
				return false
			}
		}
	}
	return true
}

type drained struct {
	rv      string // last resourceVersion seen
	events  int
	expired bool // the watch ended in an error (usually: resourceVersion too old): list again
	done    bool // the context ended
}

// drain forwards watch events until the watch ends or the context does.
func drain(ctx context.Context, wi watch.Interface, g *group, out chan<- State) drained {
	var r drained
	for {
		select {
		case <-ctx.Done():
			r.done = true
			return r
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return r
			}
			if ev.Type == watch.Error {
				// Expired ("too old resource version") or anything else: start again from a list.
				r.expired = true
				return r
			}
			r.events++
			acc, err := meta.Accessor(ev.Object)
			if err == nil && acc.GetResourceVersion() != "" {
				r.rv = acc.GetResourceVersion()
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			u, isU := ev.Object.(*unstructured.Unstructured)
			if !isU {
				continue
			}
			k, wanted := g.names[u.GetName()]
			if !wanted {
				continue
			}
			s := g.judge(u)
			if ev.Type == watch.Deleted {
				s = State{Key: k, Status: status.NotFoundStatus, Message: "deleted"}
			}
			if !send(ctx, out, s) {
				r.done = true
				return r
			}
		}
	}
}

func send(ctx context.Context, out chan<- State, s State) bool {
	select {
	case out <- s:
		return true
	case <-ctx.Done():
		return false
	}
}
