package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// PostRenderFlags are Helm's --post-renderer EXE [--post-renderer-args ARG]...: every rendered
// object and hook goes through the program (as a multi-document YAML stream on its stdin) and
// what it prints on stdout is what is applied, as Helm 4 does. The pack's crds/ are not passed
// (Helm does not pass them either), nor are the notes.
type PostRenderFlags struct {
	Exe  string
	Args []string
}

// postRenderTimeout bounds the program: a post-renderer that hangs must not hang the release.
const postRenderTimeout = 2 * time.Minute

// AddFlags registers --post-renderer and --post-renderer-args.
func (f *PostRenderFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.Exe, "post-renderer", "", "Program that receives the rendered objects and hooks as YAML on stdin and prints the objects to apply (a path, or a name on PATH)")
	fl.StringArrayVar(&f.Args, "post-renderer-args", nil, "An argument to the --post-renderer program (repeatable)")
}

// Run pipes the objects and hooks of res through the program and classifies its output again
// (objects, hooks by their annotations). Objects keep their template as source when the
// program kept their kind, namespace and name.
func (f *PostRenderFlags) Run(ctx context.Context, res *render.Result) (*render.Result, error) {
	if f.Exe == "" {
		return res, nil
	}
	in := append(append([]*manifest.Object{}, res.Objects...), res.Hooks...)
	data, err := manifest.Encode(in, false)
	if err != nil {
		return nil, err
	}
	path, err := exec.LookPath(f.Exe)
	if err != nil {
		return nil, Usagef("--post-renderer %s: %v", f.Exe, err)
	}
	ctx, cancel := context.WithTimeout(ctx, postRenderTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, f.Args...)
	cmd.Stdin = bytes.NewReader(data)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if ctx.Err() != nil {
			msg = fmt.Sprintf("did not finish within %s", postRenderTimeout)
		}
		return nil, &UsageError{Msg: fmt.Sprintf("--post-renderer %s failed: %v: %s", f.Exe, err, msg)}
	}
	objs, err := manifest.Decode(out.Bytes(), "post-renderer "+f.Exe)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("--post-renderer %s printed what is not Kubernetes objects: %v", f.Exe, err)}
	}
	sources := map[string]string{}
	for _, o := range in {
		sources[sourceKey(o)] = o.Source
	}
	for _, o := range objs {
		if s, ok := sources[sourceKey(o)]; ok && s != "" {
			o.Source = s
		}
	}
	post, err := render.FromObjects(objs)
	if err != nil {
		return nil, &UsageError{Msg: fmt.Sprintf("--post-renderer %s: %v", f.Exe, err)}
	}
	post.CRDs, post.Notes, post.Templates = res.CRDs, res.Notes, res.Templates
	return post, nil
}

func sourceKey(o *manifest.Object) string {
	return o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}
