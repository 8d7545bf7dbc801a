package controlStructures

import (
	"bytes"
	"fmt"

	"github.com/pkg/errors"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/parser"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/tokens"
)

// CallControlStructure implements Jinja2's
//
//	{% call macro_name(args...) %} body {% endcall %}
//
// The body is exposed inside the macro as the `caller()` function.
type CallControlStructure struct {
	Location *tokens.Token
	Call     *nodes.Call    // the macro invocation
	Body     *nodes.Wrapper // body to expose as caller()
	// Params are the names of {% call(a, b) m() %}: caller(x, y) binds them in the body.
	Params []string
}

func (c *CallControlStructure) Position() *tokens.Token { return c.Location }
func (c *CallControlStructure) String() string {
	t := c.Position()
	return fmt.Sprintf("CallControlStructure(Line=%d Col=%d)", t.Line, t.Col)
}

func (c *CallControlStructure) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	// Build the caller() closure: renders the {% call %}...{% endcall %} body.
	callerFn := func(va *exec.VarArgs) *exec.Value {
		buf := new(bytes.Buffer)
		sub := r.Inherit()
		for i, name := range c.Params {
			if i < len(va.Args) {
				sub.Environment.Context.Set(name, va.Args[i].Interface())
			} else if kw, ok := va.KwArgs[name]; ok {
				sub.Environment.Context.Set(name, kw.Interface())
			} else {
				return exec.AsValue(fmt.Errorf("caller() is missing the argument %q", name))
			}
		}
		originalOutput := sub.Output
		sub.Output = buf
		err := sub.ExecuteWrapper(c.Body)
		sub.Output = originalOutput
		if err != nil {
			return exec.AsValue(err)
		}
		return exec.AsSafeValue(buf.String())
	}

	// Stash the caller in the context so MacroNodeToFunc can find and bind it.
	r.Environment.Context.Set("__gonja_caller__", callerFn)

	// Invoke the macro by evaluating the call expression. The result is the
	// macro's rendered output, which we write to the renderer.
	result := r.Eval(c.Call)
	if result.IsError() {
		return errors.Wrapf(result, "Unable to execute {%% call %%}")
	}

	// Ensure stash is cleared even if the macro didn't consume it.
	r.Environment.Context.Set("__gonja_caller__", nil)

	if _, err := r.Output.Write([]byte(result.String())); err != nil {
		return err
	}
	return nil
}

func callParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	cs := &CallControlStructure{Location: p.Current()}

	// {% call(a, b) macro() %}: the names caller()'s arguments take in the body.
	if args.Match(tokens.LeftParenthesis) != nil {
		for args.Match(tokens.RightParenthesis) == nil {
			name := args.Match(tokens.Name)
			if name == nil {
				return nil, args.Error("Expected a name in the call's parameters.", args.Current())
			}
			cs.Params = append(cs.Params, name.Val)
			if args.Match(tokens.Comma) == nil && args.Current(tokens.RightParenthesis) == nil {
				return nil, args.Error("Expected ',' or ')' in the call's parameters.", args.Current())
			}
		}
	}

	// Parse the macro-call expression: name(arg1, arg2, key=val, ...).
	expr, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	call, ok := expr.(*nodes.Call)
	if !ok {
		return nil, args.Error("Expected a macro call expression after {% call %}", args.Current())
	}
	cs.Call = call

	if !args.End() {
		return nil, args.Error("Malformed call-tag arguments.", args.Current())
	}

	// Parse body until {% endcall %}.
	wrapper, endargs, err := p.WrapUntil("endcall")
	if err != nil {
		return nil, err
	}
	cs.Body = wrapper
	if !endargs.End() {
		return nil, endargs.Error("endcall takes no arguments", nil)
	}

	return cs, nil
}
