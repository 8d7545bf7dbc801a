package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"imagee", "image", 1}, {"é", "e", 1}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"image", "replicas", "resources"}
	if got := Typo("imagee", keys); got != "image" {
		t.Errorf("Typo(imagee) = %q", got)
	}
	if got := Typo("Replicas", keys); got != "replicas" {
		t.Errorf("case is ignored: got %q", got)
	}
	if got := Typo("zzzzzz", keys); got != "" {
		t.Errorf("nothing near: got %q", got)
	}
	if got := Closest("resourcez", keys, 0); got != "" {
		t.Errorf("maxDist 0 takes only an exact match: got %q", got)
	}
}
