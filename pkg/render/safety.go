package render

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// recoverAt turns a panic of the template engine into an error naming the template, so that no
// template source and no values can crash the plugin. A panic is a bug: the message asks for a
// report with the stack's first frame of ours.
func recoverAt(file string, err *error) {
	p := recover()
	if p == nil {
		return
	}
	*err = &Error{Template: file, Msg: fmt.Sprintf("the template engine failed on this template (%v); please report it with the template%s", p, panicFrame())}
}

// panicFrame is the innermost function of the template engine in the panic's stack.
func panicFrame() string {
	for _, l := range strings.Split(string(debug.Stack()), "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "gonja/v2/") && !strings.HasPrefix(l, "/") {
			return " (at " + l + ")"
		}
	}
	return ""
}
