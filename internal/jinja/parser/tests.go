package parser

import (
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/tokens"
)

// parseTest parses `is [not] name [arg]` after expr (the current token is `is`), as Jinja2's
// parse_test: the argument is a call's parenthesis or one primary expression, never `else`,
// `if`, `and` or `or`.
func (p *Parser) parseTest(expr nodes.Expression) (nodes.Expression, error) {
	p.Match(tokens.Is)
	not := p.Match(tokens.Not)
	ident := p.Match(tokens.Name, tokens.In) // "in" is a keyword and a test
	if ident == nil {
		return nil, p.Error("expected the name of a test after 'is'", p.Current())
	}
	test := &nodes.TestCall{
		Token:  ident,
		Name:   ident.Val,
		Args:   []nodes.Expression{},
		Kwargs: map[string]nodes.Expression{},
	}
	if p.Current(tokens.Name, tokens.String, tokens.Integer, tokens.Float, tokens.LeftParenthesis, tokens.LeftBracket, tokens.LeftBrace) != nil &&
		p.CurrentName("else", "if", "and", "or", "is") == nil {
		arg, err := p.ParseVariableOrLiteral()
		if err != nil {
			return nil, err
		}
		test.Args = append(test.Args, arg)
	}
	expr = &nodes.TestExpression{Expression: expr, Test: test}
	if not != nil {
		expr = &nodes.Negation{Term: expr, Operator: not}
	}
	return expr, nil
}
