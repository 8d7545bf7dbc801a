package e2e

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// A kubeconfig whose user authenticates with an auth-provider plugin (oidc) works: the plugin
// is linked in, so the token it holds reaches the API server, which (having no OIDC issuer
// configured) turns it down with 401. Without the plugin the client would not even start
// ("no Auth Provider found for name oidc").
func TestAuthProviderPluginsAreLinkedIn(t *testing.T) {
	t.Parallel()
	cfg, err := clientcmd.LoadFromFile(testenv.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	// An unsigned JWT that expires in 2100: the oidc plugin uses it as it is, without refreshing.
	idToken := enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"iss":"https://127.0.0.1:1","exp":4102444800}`)) + ".x"
	ctx := cfg.Contexts[cfg.CurrentContext]
	cfg.AuthInfos["oidc-user"] = &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "oidc", Config: map[string]string{
		"client-id": "sherpack", "idp-issuer-url": "https://127.0.0.1:1", "id-token": idToken,
	}}}
	oidc := *ctx
	oidc.AuthInfo = "oidc-user"
	cfg.Contexts["oidc"] = &oidc
	cfg.CurrentContext = "oidc"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + p}, "list", "-n", "default")
	if r.code == 0 || strings.Contains(r.stderr, "no Auth Provider found") || !strings.Contains(strings.ToLower(r.stderr), "unauthorized") {
		t.Fatalf("oidc auth-provider: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
