package plugin

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// Signals ends the process cleanly on SIGINT, SIGTERM and SIGHUP. The first signal cancels the
// command's context with a *lifecycle.InterruptedError: an operation stops applying and waiting,
// records its revision failed, undoes within the grace period (--interrupt-grace) when --atomic
// or --cleanup-on-fail ask for it, releases the lock and exits 128+signal. A command holding no
// lock (reads, renders) exits at once. A second signal skips the grace: the failure is recorded
// if the API server answers within 2 s, the lock released, and the process exits.
type Signals struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	abort  chan struct{}
	ch     chan os.Signal

	mu    sync.Mutex
	first *lifecycle.InterruptedError
	// Grace is the grace period after the first signal (set from --interrupt-grace).
	Grace time.Duration
	// exit ends the process (os.Exit; tests replace it).
	exit func(code int)
}

// HandleSignals starts handling the signals; ctx is the context commands run in.
func HandleSignals(parent context.Context) (context.Context, *Signals) {
	s := &Signals{abort: make(chan struct{}), ch: make(chan os.Signal, 3), Grace: lifecycle.DefaultGrace, exit: os.Exit}
	ctx, cancel := context.WithCancelCause(parent)
	s.ctx, s.cancel = lifecycle.WithAbort(ctx, s.abort), cancel
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go s.loop()
	return s.ctx, s
}

// hardExitAfterAbort is how long the process may still take after a second signal (the failure
// recorded within 2 s, the lock released within 5 s) before it exits regardless.
const hardExitAfterAbort = 8 * time.Second

func (s *Signals) loop() {
	n := 0
	for sig := range s.ch {
		n++
		s.mu.Lock()
		if s.first == nil {
			s.first = &lifecycle.InterruptedError{Signal: sig, At: time.Now()}
		}
		first, grace := s.first, s.Grace
		s.mu.Unlock()
		switch n {
		case 1:
			s.cancel(first)
			if !releases.Holding() {
				s.exit(first.ExitCode())
				return
			}
			// The grace period bounds undoing; recording and releasing take a few seconds more.
			time.AfterFunc(grace+hardExitAfterAbort+5*time.Second, func() { s.exit(first.ExitCode()) })
		case 2:
			close(s.abort)
			time.AfterFunc(hardExitAfterAbort, func() { s.exit(first.ExitCode()) })
		}
	}
}

// Interrupted is the first signal received, or nil.
func (s *Signals) Interrupted() *lifecycle.InterruptedError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

// Stop stops handling signals.
func (s *Signals) Stop() { signal.Stop(s.ch) }

// addGraceFlag registers --interrupt-grace, which sets both the lifecycle's grace period and the
// signal handler's.
func (g *Globals) addGraceFlag(fs *pflag.FlagSet) {
	fs.DurationVar(&g.Grace, "interrupt-grace", lifecycle.DefaultGrace,
		"After Ctrl-C or SIGTERM, how long an operation may take to record its failure and undo (--atomic, --cleanup-on-fail) before it exits; a second signal skips it")
}

// signalsKey finds the handler from a command's context, to hand it --interrupt-grace.
type signalsKey struct{}

// WithSignals puts the handler in ctx.
func WithSignals(ctx context.Context, s *Signals) context.Context {
	return context.WithValue(ctx, signalsKey{}, s)
}

func (g *Globals) applyGrace(ctx context.Context) {
	if ctx == nil {
		return
	}
	if s, ok := ctx.Value(signalsKey{}).(*Signals); ok && g.Grace > 0 {
		s.mu.Lock()
		s.Grace = g.Grace
		s.mu.Unlock()
	}
}
