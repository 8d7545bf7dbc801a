// Package cluster starts and stops the local control plane used by the tests and the demo:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (the simulated kubelet),
// all on free loopback ports, RBAC on, with one kwok-managed node.
//
// The binaries are built by hack/build-tools.sh from pinned modules; this package only runs them.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Options says where the binaries are and where the cluster keeps its state and logs.
type Options struct {
	BinDir string // etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
	Dir    string // state: certs, etcd data, kubeconfig, logs/
	Log    func(format string, args ...any)
}

// Cluster is a running control plane.
type Cluster struct {
	opts       Options
	Kubeconfig string // admin kubeconfig (token auth, group system:masters)
	Server     string // https://127.0.0.1:<port>
	Token      string // admin bearer token

	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Binaries lists the executables the control plane needs in Options.BinDir.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// Start brings up the control plane and returns once the API server is ready, the node is Ready
// and schedulable, and the default ServiceAccount exists (so pods can be admitted).
// On error everything already started is stopped; the logs stay in Options.Dir/logs.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	for _, b := range Binaries {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("control plane binary %s missing in %s: run `make tools` (hack/build-tools.sh) first", b, opts.BinDir)
		}
	}
	for _, d := range []string{"certs", "logs", "etcd"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	c := &Cluster{opts: opts}
	if err := c.start(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) path(p ...string) string {
	return filepath.Join(append([]string{c.opts.Dir}, p...)...)
}

func (c *Cluster) start(ctx context.Context) error {
	began := time.Now()
	token, err := randomHex(16)
	if err != nil {
		return err
	}
	c.Token = token
	if err := writeServiceAccountKeys(c.path("certs")); err != nil {
		return err
	}
	if err := os.WriteFile(c.path("certs", "tokens.csv"), []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.Server = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	c.Kubeconfig = c.path("kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.Server, token); err != nil {
		return err
	}

	if err := c.run("etcd",
		"--name", "default",
		"--data-dir", c.path("etcd"),
		"--listen-client-urls", etcdClient, "--advertise-client-urls", etcdClient,
		"--listen-peer-urls", etcdPeer, "--initial-advertise-peer-urls", etcdPeer,
		"--initial-cluster", "default="+etcdPeer,
		"--unsafe-no-fsync", "--log-level", "warn",
	); err != nil {
		return err
	}
	if err := c.run("kube-apiserver",
		"--etcd-servers", etcdClient,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(ports[2]),
		"--cert-dir", c.path("certs"),
		"--service-account-key-file", c.path("certs", "sa.pub"),
		"--service-account-signing-key-file", c.path("certs", "sa.key"),
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--authorization-mode", "RBAC",
		"--token-auth-file", c.path("certs", "tokens.csv"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none",
		"--allow-privileged",
		"--profiling=false",
	); err != nil {
		return err
	}
	if err := c.waitAPIServer(ctx, 90*time.Second); err != nil {
		return err
	}
	c.opts.Log("kube-apiserver ready at %s (%s)", c.Server, time.Since(began).Round(time.Millisecond))

	kc := c.Kubeconfig
	if err := c.run("kube-controller-manager",
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--service-account-private-key-file", c.path("certs", "sa.key"),
		"--root-ca-file", c.path("certs", "apiserver.crt"),
		"--use-service-account-credentials=false",
		"--controllers", "*,-nodeipam,-nodelifecycle",
		"--leader-elect=false", "--secure-port", "0",
	); err != nil {
		return err
	}
	if err := c.run("kube-scheduler",
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--leader-elect=false", "--secure-port", "0",
	); err != nil {
		return err
	}
	stages := c.path("kwok-stages.yaml")
	if err := writeStages(filepath.Join(c.opts.BinDir, "kwok-stages"), stages); err != nil {
		return err
	}
	if err := c.run("kwok",
		"--kubeconfig", kc, "--config", stages,
		"--manage-all-nodes=true",
		"--cidr", "10.244.0.1/16", "--node-ip", "10.0.0.1",
	); err != nil {
		return err
	}
	if err := c.prepareNode(ctx); err != nil {
		return err
	}
	c.opts.Log("control plane ready in %s", time.Since(began).Round(time.Millisecond))
	return nil
}

// run starts one component with its output in logs/<name>.log. The component is killed if this
// process dies (Pdeathsig), so a killed test run leaves nothing behind.
func (c *Cluster) run(name string, args ...string) error {
	logf, err := os.OpenFile(c.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.opts.BinDir, name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return nil
}

// Exited reports the first component that stopped on its own, if any.
func (c *Cluster) Exited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v); see %s", p.name, p.cmd.ProcessState, c.path("logs", p.name+".log"))
		default:
		}
	}
	return nil
}

// Stop terminates every component in reverse start order: SIGTERM, then SIGKILL after 10s.
func (c *Cluster) Stop() {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		p.log.Close()
	}
}

// LogDir is where the component logs are.
func (c *Cluster) LogDir() string { return c.path("logs") }

func (c *Cluster) waitAPIServer(ctx context.Context, limit time.Duration) error {
	client := c.httpClient()
	deadline := time.Now().Add(limit)
	for {
		if err := c.Exited(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+c.Token)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver not ready after %s (last: %v); see %s", limit, err, c.path("logs", "kube-apiserver.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) httpClient() *http.Client {
	// The API server's serving certificate is self-signed and the traffic never leaves loopback.
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test cluster
	}}
}

func writeKubeconfig(path, server, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: local
  context:
    cluster: local
    user: admin
    namespace: default
current-context: local
`, server, token)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

func writeServiceAccountKeys(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sa.pub"), pub, 0o600)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
