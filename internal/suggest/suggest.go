// Package suggest finds the word a user probably meant: the closest key of a map, annotation
// or flag to a misspelt one, for "did you mean" in error messages.
package suggest

import "strings"

// Closest is the candidate nearest to s by edit distance (case-insensitive), if it is within
// maxDist edits; "" when none is. Ties go to the earlier candidate, so callers that want a
// stable answer pass their candidates sorted.
func Closest(s string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := Distance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Typo is Closest with the allowance for a typo in a word of s's length: a third of it, and
// at least two edits.
func Typo(s string, candidates []string) string {
	return Closest(s, candidates, max(2, len(s)/3))
}

// Distance is the Levenshtein distance between a and b, in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
