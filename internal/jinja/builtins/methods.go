package builtins

import (
	methods "github.com/sherpack/kubectl-sherpack/internal/jinja/builtins/methods"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
)

// Methods exports all builtins methods.
var Methods exec.Methods = methods.All
