package exec

import (
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
)

type ControlStructure interface {
	nodes.ControlStructure
	Execute(*Renderer, *nodes.ControlStructureBlock) error
}
