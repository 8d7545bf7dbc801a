// Command cluster starts and stops the local control plane for the tests, the demo and people.
//
//	go run ./hack/cluster up   [--dir DIR] [--bin DIR]   start in the background, print the KUBECONFIG to export
//	go run ./hack/cluster down [--dir DIR]               stop it (keeps DIR/logs)
//	go run ./hack/cluster run  [--dir DIR] [--bin DIR]   run in the foreground until interrupted
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/cluster"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	verb := os.Args[1]
	fs := flag.NewFlagSet(verb, flag.ExitOnError)
	root := projectRoot()
	dir := fs.String("dir", filepath.Join(root, "_output", "cluster"), "state directory (certs, etcd data, kubeconfig, logs)")
	bin := fs.String("bin", filepath.Join(root, "_output", "tools"), "directory of the control plane binaries")
	_ = fs.Parse(os.Args[2:])
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	*dir, *bin = abs(*dir), abs(*bin)

	var err error
	switch verb {
	case "up":
		err = up(*dir, *bin)
	case "down":
		err = down(*dir)
	case "run", "serve":
		err = serve(*dir, *bin, verb == "serve")
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cluster up|down|run [--dir DIR] [--bin DIR]")
	os.Exit(3)
}

func projectRoot() string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "hack", "tools")); err == nil {
				return d
			}
		}
	}
	return wd
}

// up starts "serve" as a detached process and waits until it says ready (or failed).
func up(dir, bin string) error {
	if pid, ok := running(dir); ok {
		fmt.Fprintf(os.Stderr, "control plane already running (pid %d)\n", pid)
		fmt.Printf("export KUBECONFIG=%s\n", filepath.Join(dir, "kubeconfig"))
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range []string{"ready", "failed", "supervisor.pid"} {
		_ = os.Remove(filepath.Join(dir, f))
	}
	// Fresh state on every start; logs of earlier runs go away with it.
	for _, d := range []string{"etcd", "certs", "logs"} {
		_ = os.RemoveAll(filepath.Join(dir, d))
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "supervisor.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(self, "serve", "--dir", dir, "--bin", bin)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	_ = os.WriteFile(filepath.Join(dir, "supervisor.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(3 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			fmt.Fprintf(os.Stderr, "control plane up; logs in %s\n", filepath.Join(dir, "logs"))
			fmt.Printf("export KUBECONFIG=%s\n", filepath.Join(dir, "kubeconfig"))
			return nil
		}
		select {
		case err := <-exited:
			msg, _ := os.ReadFile(filepath.Join(dir, "supervisor.log"))
			return fmt.Errorf("control plane failed to start (%v):\n%s", err, msg)
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return errors.New("control plane not ready after 3m; see " + filepath.Join(dir, "logs"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func running(dir string) (int, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "supervisor.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	if _, err := os.Stat(filepath.Join(dir, "ready")); err != nil {
		return 0, false
	}
	return pid, true
}

func down(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "supervisor.pid"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane not running")
		return nil
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if pid > 0 && syscall.Kill(pid, syscall.SIGTERM) == nil {
		for i := 0; i < 300 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.Remove(filepath.Join(dir, "supervisor.pid"))
	_ = os.Remove(filepath.Join(dir, "ready"))
	fmt.Fprintf(os.Stderr, "control plane stopped; logs kept in %s\n", filepath.Join(dir, "logs"))
	return nil
}

// serve runs the control plane until SIGINT/SIGTERM, then stops every component.
func serve(dir, bin string, detached bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := cluster.Start(ctx, cluster.Options{BinDir: bin, Dir: dir, Log: func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", a...)
	}})
	if err != nil {
		if detached {
			_ = os.WriteFile(filepath.Join(dir, "failed"), []byte(err.Error()), 0o600)
		}
		return err
	}
	defer c.Stop()
	_ = os.WriteFile(filepath.Join(dir, "ready"), []byte(c.Server), 0o600)
	if !detached {
		fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "stopping control plane")
			return nil
		case <-tick.C:
			if err := c.Exited(); err != nil {
				return err
			}
		}
	}
}
