package builtins

import "github.com/sherpack/kubectl-sherpack/internal/jinja/exec"

var GlobalVariables = exec.NewContext(map[string]any{
	"gonja": map[string]any{
		"version": "v2.9.1",
	},
})
