package render

import (
	"github.com/sherpack/kubectl-sherpack/internal/jinja/builtins"
	controlStructures "github.com/sherpack/kubectl-sherpack/internal/jinja/builtins/control_structures"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/parser"
)

// Undefined values are semi-strict, as in upstream's engine (minijinja's SemiStrict mode):
// printing, iterating or indexing into an undefined value is an error (the engine's strict
// undefined does that and names the expression), but a condition on one is simply false. The
// engine treats an undefined value as false in not, and/or and inline ifs (exec.Truth); the
// conditions of `if`/`elif` and of a loop's `if` filter are also rewritten at parse time into
// `(c) is __truthy`: a test receives the undefined error as its value instead of aborting, and
// tells it apart from any other error.

const truthyTest = "__truthy"

// isUndefined reports whether v is an error caused by an undefined value (and nothing else).
func isUndefined(v *exec.Value) bool { return exec.IsUndefined(v) }

// testTruthy is `is __truthy`: Jinja2 truthiness where an undefined value is false.
func testTruthy(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	if in.IsError() {
		if isUndefined(in) {
			return false, nil
		}
		err, _ := in.Interface().(error)
		return false, err
	}
	return in.IsTrue(), nil
}

// semiStrict rewrites a condition so that undefined operands count as false. `not`, `and` and
// `or` are kept (their operands are rewritten); anything else becomes `(expr) is __truthy`.
func semiStrict(e nodes.Expression) nodes.Expression {
	switch n := e.(type) {
	case nil:
		return nil
	case *nodes.Negation:
		return &nodes.Negation{Term: semiStrict(n.Term), Operator: n.Operator}
	case *nodes.BinaryExpression:
		if op := n.Operator.Token.Val; op == "and" || op == "or" {
			return &nodes.BinaryExpression{Left: semiStrict(n.Left), Right: semiStrict(n.Right), Operator: n.Operator}
		}
	case *nodes.TestExpression:
		if n.Test.Name == truthyTest {
			return n
		}
	}
	return &nodes.TestExpression{Expression: e, Test: &nodes.TestCall{Token: e.Position(), Name: truthyTest, Kwargs: map[string]nodes.Expression{}}}
}

// controlStructureSet is gonja's set with `if` and `for` parsing semi-strict conditions.
func controlStructureSet() *exec.ControlStructureSet {
	cs := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).Update(builtins.ControlStructures)
	ifParse, _ := cs.Get("if")
	_ = cs.Replace("if", func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		n, err := ifParse(p, args)
		if ics, ok := n.(*controlStructures.IfControlStructure); ok && err == nil {
			for i, c := range ics.Conditions {
				ics.Conditions[i] = semiStrict(c)
			}
		}
		return n, err
	})
	forParse, _ := cs.Get("for")
	_ = cs.Replace("for", func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		n, err := forParse(p, args)
		if fcs, ok := n.(*controlStructures.ForControlStructure); ok && err == nil && fcs.IfCondition != nil {
			fcs.IfCondition = semiStrict(fcs.IfCondition)
		}
		return n, err
	})
	return cs
}

// testSet is Jinja2's tests plus ours. In strict mode a missing value is an error value and
// none is a value like any other (defined, as in Jinja2); in lenient mode a missing value is
// none, so none counts as undefined.
func testSet(strict bool) *exec.TestSet {
	ts := exec.NewTestSet(map[string]exec.TestFunction{}).Update(builtins.Tests)
	_ = ts.Register(truthyTest, testTruthy)
	defined := func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return !in.IsError() && (strict || !in.IsNil()), nil
	}
	_ = ts.Replace("defined", defined)
	// gonja's odd and even get negative numbers wrong (-3 % 2 is -1 in Go).
	parity := func(want int) func(*exec.Context, *exec.Value, *exec.VarArgs) (bool, error) {
		return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if !in.IsInteger() {
				return false, nil
			}
			return (in.Integer()%2+2)%2 == want, nil
		}
	}
	setTest(ts, "escaped", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.Safe, nil
	})
	_ = ts.Replace("odd", parity(1))
	_ = ts.Replace("even", parity(0))
	_ = ts.Replace("undefined", func(c *exec.Context, in *exec.Value, p *exec.VarArgs) (bool, error) {
		d, err := defined(c, in, p)
		return !d, err
	})
	return ts
}
