package releases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func importedRevs(states ...State) []*Release {
	var out []*Release
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, s := range states {
		rev := i + 1
		at := t0.Add(time.Duration(i) * time.Hour)
		out = append(out, &Release{Name: "shop", Namespace: "prod", Revision: rev, State: s, Description: fmt.Sprintf("helm revision %d", rev),
			Manifest: "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: prod}\n", CreatedAt: at, UpdatedAt: at,
			Pack:     PackInfo{Name: "shop", Version: "1.0.0"},
			Imported: &ImportSource{From: "helm", Object: fmt.Sprintf("Secret prod/sh.helm.release.v1.shop.v%d", rev), Status: string(s), At: t0}})
	}
	return out
}

// failingCreates fails the Create of one revision.
type failingCreates struct {
	*MemoryDriver
	failRevision int
}

func (f failingCreates) Create(ctx context.Context, r *Release) error {
	if r.Revision == f.failRevision {
		return errors.New("the API server said no")
	}
	return f.MemoryDriver.Create(ctx, r)
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	s := NewStore(NewMemoryDriver())
	revs := importedRevs(StateSuperseded, StateFailed, StateDeployed)
	written, err := s.Import(ctx, revs)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(written) != "[1 2 3]" {
		t.Fatalf("written %v", written)
	}
	hist, err := s.History(ctx, "prod", "shop")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range hist {
		got = append(got, fmt.Sprintf("%d:%s", m.Revision, m.State))
	}
	if strings.Join(got, " ") != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history %v", got)
	}
	r, err := s.Get(ctx, "prod", "shop", 2)
	if err != nil {
		t.Fatal(err)
	}
	// Kept as they were: times, description, where it came from; never a holder.
	if !r.UpdatedAt.Equal(revs[1].UpdatedAt) || !r.CreatedAt.Equal(revs[1].CreatedAt) || r.Description != "helm revision 2" ||
		r.Imported == nil || r.Imported.Object != "Secret prod/sh.helm.release.v1.shop.v2" || r.Holder != nil {
		t.Fatalf("revision 2 as stored: %+v", r)
	}
	if err := CheckInvariants(View{History: hist}, false); err != nil {
		t.Fatal(err)
	}

	// Again: everything is there already, nothing is written.
	written, err = s.Import(ctx, importedRevs(StateSuperseded, StateFailed, StateDeployed))
	if err != nil || len(written) != 0 {
		t.Fatalf("second import: %v %v", written, err)
	}
}

func TestImportResumes(t *testing.T) {
	ctx := context.Background()
	s := NewStore(NewMemoryDriver())
	// An import cut short wrote the newest revision only.
	if _, err := s.Import(ctx, importedRevs(StateSuperseded, StateDeployed)[1:]); err != nil {
		t.Fatal(err)
	}
	written, err := s.Import(ctx, importedRevs(StateSuperseded, StateDeployed))
	if err != nil || fmt.Sprint(written) != "[1]" {
		t.Fatalf("resume: %v %v", written, err)
	}
}

func TestImportRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		revs func() []*Release
		want string
	}{
		{"pending", func() []*Release { return importedRevs(StateSuperseded, StatePendingUpgrade) }, "pending"},
		{"two deployed", func() []*Release { return importedRevs(StateDeployed, StateDeployed) }, "one-deployed"},
		{"out of order", func() []*Release {
			r := importedRevs(StateSuperseded, StateDeployed)
			r[0], r[1] = r[1], r[0]
			return r
		}, "increasing order"},
		{"other release", func() []*Release { r := importedRevs(StateSuperseded, StateDeployed); r[1].Name = "other"; return r }, "not prod/shop"},
		{"bad state", func() []*Release { return importedRevs(State("exploded")) }, "unknown state"},
		{"deployed under uninstalled", func() []*Release { return importedRevs(StateDeployed, StateUninstalled) }, "uninstalled-is-final"},
		{"reserved label", func() []*Release {
			r := importedRevs(StateDeployed)
			r[0].Labels = map[string]string{"owner": "x"}
			return r
		}, "reserved"},
		{"nothing", func() []*Release { return nil }, "nothing to import"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewMemoryDriver()
			_, err := NewStore(d).Import(ctx, tc.revs())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ms, _ := d.List(ctx, "", ""); len(ms) != 0 {
				t.Fatalf("%d revisions written by a refused import", len(ms))
			}
		})
	}
}

func TestImportDoesNotMix(t *testing.T) {
	ctx := context.Background()
	s := NewStore(NewMemoryDriver())
	// A release sherpack made itself has a revision 1.
	own := &Release{Name: "shop", Namespace: "prod", Revision: 1, State: StatePendingInstall}
	if err := s.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	_, err := s.Import(ctx, importedRevs(StateSuperseded, StateDeployed))
	var ce *ImportConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "revision 1 is already stored") {
		t.Fatalf("error %v", err)
	}
	if ms, _ := s.Driver.List(ctx, "prod", "shop"); len(ms) != 1 {
		t.Fatalf("%d revisions: the refused import wrote some", len(ms))
	}

	// After an import, revisions made by sherpack follow: importing again is refused.
	s = NewStore(NewMemoryDriver())
	if _, err := s.Import(ctx, importedRevs(StateDeployed)); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, &Release{Name: "shop", Namespace: "prod", Revision: 2, State: StatePendingUpgrade}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, importedRevs(StateDeployed)); err == nil || !strings.Contains(err.Error(), "revision 2 is newer") {
		t.Fatalf("error %v", err)
	}
}

func TestImportUndoesOnFailure(t *testing.T) {
	ctx := context.Background()
	md := NewMemoryDriver()
	s := NewStore(failingCreates{MemoryDriver: md, failRevision: 1})
	_, err := s.Import(ctx, importedRevs(StateSuperseded, StateSuperseded, StateDeployed))
	if err == nil || !strings.Contains(err.Error(), "revision 1") {
		t.Fatalf("error %v", err)
	}
	if ms, _ := md.List(ctx, "prod", "shop"); len(ms) != 0 {
		t.Fatalf("%d revisions left behind by a failed import", len(ms))
	}
}

func TestImportNeedsTheLock(t *testing.T) {
	s := NewStore(NewMemoryDriver())
	op, err := s.Begin(context.Background(), "prod", "shop", "import")
	if err != nil {
		t.Fatal(err)
	}
	ctx := op.Context()
	_ = op.End(context.Background())
	if _, err := s.Import(ctx, importedRevs(StateDeployed)); err == nil {
		t.Fatal("an import through the context of a released lock wrote")
	}
}

func TestReachable(t *testing.T) {
	for _, s := range []State{StateDeployed, StateSuperseded, StateFailed, StateUninstalled, StatePendingUninstall} {
		if !reachable(s) {
			t.Errorf("%s unreachable", s)
		}
	}
	if reachable("exploded") {
		t.Error("an unknown state is reachable")
	}
}
