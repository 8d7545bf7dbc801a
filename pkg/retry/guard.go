package retry

import (
	"context"
	"net/http"
)

// A write guard travels in a request's context and is asked before every attempt of a request
// that may change something (anything but GET, HEAD and OPTIONS). A locked operation puts one
// there that refuses once its lock can no longer be known to be held: no apply, delete or record
// write leaves this process after that point, not even a retry of one sent earlier, however long
// an outage is ridden.
type guardKey struct{}

// WithWriteGuard returns a context whose writes first ask check; an error refuses the write.
func WithWriteGuard(ctx context.Context, check func() error) context.Context {
	return context.WithValue(ctx, guardKey{}, check)
}

// WithoutWriteGuard lifts the guard (for the lock's own renewal and release).
func WithoutWriteGuard(ctx context.Context) context.Context {
	return context.WithValue(ctx, guardKey{}, (func() error)(nil))
}

// CheckWrite asks the context's write guard, if any.
func CheckWrite(ctx context.Context) error {
	if check, _ := ctx.Value(guardKey{}).(func() error); check != nil {
		return check()
	}
	return nil
}

// writes tells whether a request may change something on the server.
func writes(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
