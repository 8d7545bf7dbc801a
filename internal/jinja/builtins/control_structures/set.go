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

type SetControlStructure struct {
	location    *tokens.Token
	target      nodes.Expression
	expression  nodes.Expression
	condition   nodes.Expression
	alternative nodes.Expression
	body        *nodes.Wrapper
	// targets are the names of {% set a, b = ... %} (target is then nil).
	targets []string
	// filters of a block set, {% set x | upper %}...{% endset %}.
	filters *nodes.FilteredExpression
}

func (scs *SetControlStructure) Position() *tokens.Token {
	return scs.location
}
func (scs *SetControlStructure) String() string {
	t := scs.Position()
	return fmt.Sprintf("SetControlStructure(Line=%d Col=%d)", t.Line, t.Col)
}

func (scs *SetControlStructure) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	var value *exec.Value

	// --- Block form: {% set x %}...{% endset %} ---
	if scs.body != nil {
		buf := new(bytes.Buffer)
		sub := r.Inherit()
		originalOutput := sub.Output
		sub.Output = buf
		err := sub.ExecuteWrapper(scs.body)
		sub.Output = originalOutput
		if err != nil {
			return err
		}
		// Jinja2's block-set captures the rendered string as a Markup
		// (safe) value. Match that semantic.
		value = exec.AsSafeValue(buf.String())
		if scs.filters != nil {
			for _, f := range scs.filters.Filters {
				value = r.Evaluator().ExecuteFilter(f, value)
				if value.IsError() {
					return errors.Wrapf(value, `Unable to apply the filter %s of the set block at line %d`, f.Name, scs.location.Line)
				}
			}
		}
	} else {
		// --- Expression form: {% set x = expr [if cond else alt] %} ---
		if scs.condition != nil && scs.alternative != nil {
			truth, failed := exec.Truth(r.Eval(scs.condition))
			if failed != nil {
				return failed
			}
			if truth {
				value = r.Eval(scs.expression)
			} else {
				value = r.Eval(scs.alternative)
			}
		} else {
			value = r.Eval(scs.expression)
		}
	}

	if value == nil {
		return errors.Errorf(`Invalid value in 'set' tag: %s`, scs.expression)
	}
	if value.IsError() && !exec.IsUndefined(value) {
		// An undefined value can be assigned (as in Jinja2); printing the variable fails.
		return value
	}

	if scs.targets != nil {
		if !value.IsList() || value.Len() != len(scs.targets) {
			return errors.Errorf(`set at line %d: cannot unpack %s into %d names`, scs.location.Line, value.String(), len(scs.targets))
		}
		for i, name := range scs.targets {
			r.Environment.Context.Set(name, value.Index(i).Interface())
		}
		return nil
	}

	switch n := scs.target.(type) {
	case *nodes.Name:
		r.Environment.Context.Set(n.Name.Val, value.Interface())
	case *nodes.GetAttribute:
		target := r.Eval(n.Node)
		if target.IsError() {
			return errors.Wrapf(target, `Unable to evaluate target %s`, n)
		}
		if err := target.Set(exec.AsValue(n.Attribute), value.Interface()); err != nil {
			return errors.Wrapf(err, `Unable to set value on "%s"`, n.Attribute)
		}
	case *nodes.GetItem:
		target := r.Eval(n.Node)
		if target.IsError() {
			return errors.Wrapf(target, `Unable to evaluate target %s`, n)
		}
		arg := r.Eval(n.Arg)
		if arg.IsError() {
			return errors.Wrapf(target, `Unable to evaluate argument %s`, n.Arg)
		}
		if err := target.Set(arg, value.Interface()); err != nil {
			return errors.Wrapf(err, `Unable to set value on "%s"`, n.Arg)
		}
	default:
		return errors.Errorf(`Illegal set target node %s`, n)
	}

	return nil
}

func setParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	cs := &SetControlStructure{
		location: p.Current(),
	}

	// Parse target (variable name / attr / item).
	ident, err := args.ParseVariableOrLiteral()
	if err != nil {
		return nil, errors.Wrap(err, `unable to parse identifier`)
	}
	switch n := ident.(type) {
	case *nodes.Name, *nodes.Call, *nodes.GetItem, *nodes.GetAttribute:
		cs.target = n
	default:
		return nil, errors.Errorf(`unexpected set target %s`, n)
	}
	if args.Current(tokens.Comma) != nil {
		// {% set a, b = 1, 2 %}: names only, as in Jinja2.
		first, ok := ident.(*nodes.Name)
		if !ok {
			return nil, args.Error("set: only names can be assigned together", args.Current())
		}
		cs.targets = []string{first.Name.Val}
		for args.Match(tokens.Comma) != nil {
			name := args.Match(tokens.Name)
			if name == nil {
				return nil, args.Error("set: expected a name after ','", args.Current())
			}
			cs.targets = append(cs.targets, name.Val)
		}
		cs.target = nil
	}
	if cs.targets == nil && args.Current(tokens.Pipe) != nil {
		// {% set x | filter %}...{% endset %}
		filtered, err := args.ParseFilterExpression(ident)
		if err != nil {
			return nil, err
		}
		cs.filters, _ = filtered.(*nodes.FilteredExpression)
	}

	if args.Match(tokens.Assign) == nil {
		if !args.End() {
			return nil, args.Error("Expected '=' or end of tag for block-set.", args.Current())
		}
		wrapper, endargs, err := p.WrapUntil("endset")
		if err != nil {
			return nil, err
		}
		if !endargs.End() {
			return nil, endargs.Error("endset takes no arguments", nil)
		}
		cs.body = wrapper
		return cs, nil
	}

	// --- Expression form: {% set x = expr [if cond else alt] %} ---
	expr, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	if args.Current(tokens.Comma) != nil {
		// An unparenthesised tuple: {% set a, b = 1, 2 %}.
		tuple := &nodes.Tuple{Location: expr.Position(), Val: []nodes.Expression{expr}}
		for args.Match(tokens.Comma) != nil {
			if args.End() {
				break
			}
			item, err := args.ParseExpression()
			if err != nil {
				return nil, err
			}
			tuple.Val = append(tuple.Val, item)
		}
		expr = tuple
	}
	cs.expression = expr

	condition, alternative, err := args.ParseCondition()
	if err != nil {
		return nil, err
	}
	if condition != nil {
		cs.condition = condition
		if alternative == nil {
			return nil, args.Error("Malformed 'set' if else condition", args.Current())
		}
		cs.alternative = alternative
	}

	if !args.End() {
		return nil, args.Error("Malformed 'set' tag args.", args.Current())
	}

	return cs, nil
}
