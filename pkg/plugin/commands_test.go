package plugin

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func allCommands(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || strings.HasPrefix(sub.Name(), "__") {
			continue
		}
		out = append(out, allCommands(sub)...)
	}
	return out
}

func newRoot() *cobra.Command {
	return NewRootCommand(genericiooptions.NewTestIOStreamsDiscard())
}

// Every command has an example, and no command's own flag takes the name or the shorthand of
// a global one (kubectl's --context, -n, -s, ..., or ours).
func TestEveryCommandHasAnExampleAndShadowsNoGlobalFlag(t *testing.T) {
	root := newRoot()
	globals := root.PersistentFlags()
	for _, c := range allCommands(root) {
		if c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if g := globals.Lookup(f.Name); g != nil {
				t.Errorf("%s --%s shadows the global --%s", c.CommandPath(), f.Name, g.Name)
			}
			if f.Shorthand != "" {
				if g := globals.ShorthandLookup(f.Shorthand); g != nil {
					t.Errorf("%s -%s (--%s) shadows the global -%s (--%s)", c.CommandPath(), f.Shorthand, f.Name, f.Shorthand, g.Name)
				}
			}
		})
	}
}

// Help shows a command's own flags; the global ones are listed once, by `options`.
func TestGlobalFlagsAreShownByOptionsOnly(t *testing.T) {
	help, _, code := runCLI(t, "install", "--help")
	if code != 0 || !strings.Contains(help, "--values") || strings.Contains(help, "--kubeconfig") || strings.Contains(help, "--storage-namespace") {
		t.Fatalf("install --help (exit %d) must list its own flags and not the global ones:\n%s", code, help)
	}
	if !strings.Contains(help, `"kubectl sherpack options"`) {
		t.Fatalf("install --help must point to kubectl sherpack options:\n%s", help)
	}
	opts, _, code := runCLI(t, "options")
	for _, want := range []string{"--kubeconfig", "--context", "--namespace", "--as", "--storage", "--lock-ttl", "-v"} {
		if code != 0 || !strings.Contains(opts, want) {
			t.Errorf("options (exit %d) lacks %s", code, want)
		}
	}
	if strings.Contains(opts, "--values") {
		t.Errorf("options lists a command's own flag:\n%s", opts)
	}
}

func TestWaitFlagAcceptsHelmStrategies(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "false": false, "watcher": true, "legacy": true, "hookOnly": false, "hookonly": false} {
		b := !want
		w := &waitValue{wait: &b}
		if err := w.Set(in); err != nil || b != want || w.String() != in {
			t.Errorf("--wait=%s: err %v, wait %v, shown as %q", in, err, b, w.String())
		}
	}
	b := true
	if err := (&waitValue{wait: &b}).Set("sometimes"); err == nil || ExitCode(err) != ExitUsage {
		t.Errorf("--wait=sometimes: %v", err)
	}
}

func TestSetLiteral(t *testing.T) {
	layers, err := setLiteralLayers([]string{`a.b=x,y\z=1`, "list[1]=null", "top=true"})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{layers[0].Values["a"].(map[string]any)["b"], layers[1].Values["list"].([]any)[1], layers[2].Values["top"]}
	for i, want := range []any{`x,y\z=1`, "null", "true"} {
		if got[i] != want {
			t.Errorf("layer %d: %#v, want the literal string %q", i, got[i], want)
		}
	}
	if layers[0].Source.Kind != "set-literal" {
		t.Errorf("source kind %q", layers[0].Source.Kind)
	}
	if _, err := setLiteralLayers([]string{"novalue"}); err == nil {
		t.Error("--set-literal without = must be refused")
	}
}

func TestTemplateServerShorthandLooksLikeAPath(t *testing.T) {
	for _, v := range []string{"templates/deployment.yaml", "x.j2", "notes.txt"} {
		if err := refuseServerAsShowOnly(v); err == nil || !strings.Contains(err.Error(), "--show-only "+v) {
			t.Errorf("-s %s: %v", v, err)
		}
	}
	for _, v := range []string{"", "https://10.0.0.1:6443", "localhost:8080"} {
		if err := refuseServerAsShowOnly(v); err != nil {
			t.Errorf("-s %s is a server: %v", v, err)
		}
	}
}

func TestTemplateCapabilityFlagsValidate(t *testing.T) {
	f := TemplateCapabilityFlags{KubeVersion: "1.30", APIVersions: []string{"x.io/v1/Thing"}}
	caps, err := f.Capabilities()
	if err != nil || caps.KubeVersion != "v1.30.0" || caps.APIVersions[len(caps.APIVersions)-1] != "x.io/v1/Thing" {
		t.Fatalf("%+v %v", caps, err)
	}
	if _, err := (&TemplateCapabilityFlags{APIVersions: []string{"a/b/c/d"}}).Capabilities(); err == nil {
		t.Error("a/b/c/d is no API version")
	}
	if caps, err := (&TemplateCapabilityFlags{}).Capabilities(); caps != nil || err != nil {
		t.Error("no flag: the defaults apply (nil)")
	}
}
