package builtins

import controlStructures "github.com/sherpack/kubectl-sherpack/internal/jinja/builtins/control_structures"

// ControlStructures exports all builtins controlStructures
var ControlStructures = controlStructures.All
