package exec

import (
	"errors"
	"regexp"
)

// Undefined values are semi-strict (minijinja's SemiStrict mode, Jinja2 with an undefined whose
// truth is false): printing, iterating or indexing into an undefined value is an error, but its
// truth is false, so that a condition, `not`, `and`/`or` and an inline if on one do not fail.
// In strict mode an undefined value is the error value evalName/evalGetItem/evalGetAttribute
// return; IsUndefined tells it apart from any other error.

// undefinedRE matches the errors the evaluator gives for a missing name, key or attribute.
var undefinedRE = regexp.MustCompile(`(?:attribute|item) '?[^ ]*'? not found$|^Unable to evaluate name "[^"]*"$|^argument is undefined to access|Can't use Getitem on None$`)

// IsUndefined reports whether v is an error caused by an undefined value (and nothing else).
func IsUndefined(v *Value) bool {
	if v == nil || !v.IsError() {
		return false
	}
	err, _ := v.Interface().(error)
	return IsUndefinedErr(err)
}

// IsUndefinedErr reports whether err is (a wrapping of) an undefined-value error.
func IsUndefinedErr(err error) bool {
	for err != nil {
		if v, ok := err.(*Value); ok {
			inner, _ := v.Interface().(error)
			if inner == nil || inner == err {
				return false
			}
			err = inner
			continue
		}
		next := errors.Unwrap(err)
		if next == nil {
			return undefinedRE.MatchString(err.Error())
		}
		err = next
	}
	return false
}

// Truth is Jinja2's truth of v: an undefined value is false; any other error is returned.
func Truth(v *Value) (bool, *Value) {
	if v.IsError() {
		if IsUndefined(v) {
			return false, nil
		}
		return false, v
	}
	return v.IsTrue(), nil
}

// UndefinedArgs is a global function that receives undefined arguments as they are (error
// values IsUndefined recognises) instead of failing the call, as Jinja2 passes them: coalesce,
// for one.
type UndefinedArgs func(*Evaluator, *VarArgs) *Value
