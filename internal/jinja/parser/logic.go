package parser

import (
	"fmt"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/logging"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/tokens"
	log "github.com/sirupsen/logrus"
)

var compareOps = []tokens.Type{
	tokens.Equals,
	tokens.Ne,
	tokens.GreaterThan,
	tokens.GreaterThanOrEqual,
	tokens.LowerThan,
	tokens.LowerThanOrEqual,
}

func BinOp(token *tokens.Token) *nodes.BinOperator {
	return &nodes.BinOperator{Token: token}
}

func (p *Parser) ParseLogicalExpression() (nodes.Expression, error) {
	if logging.Enabled() {
		log.WithFields(log.Fields{
			"current": p.Current(),
		}).Trace("ParseLogicalExpression")
	}
	return p.parseOr()
}

func (p *Parser) parseOr() (nodes.Expression, error) {
	if logging.Enabled() {
		log.WithFields(log.Fields{
			"current": p.Current(),
		}).Trace("parseOr")
	}

	var expr nodes.Expression

	expr, err := p.parseAnd()
	if err != nil {
		return nil, err
	}

	for p.Current(tokens.Or) != nil {
		op := BinOp(p.Pop())
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		expr = &nodes.BinaryExpression{
			Left:     expr,
			Right:    right,
			Operator: op,
		}
	}

	if logging.Enabled() {
		log.WithFields(log.Fields{
			"expr": expr,
		}).Trace("parseOr return")
	}
	return expr, nil
}

func (p *Parser) parseAnd() (nodes.Expression, error) {
	if logging.Enabled() {
		log.WithFields(log.Fields{
			"current": p.Current(),
		}).Trace("parseAnd")
	}

	var expr nodes.Expression

	expr, err := p.parseNot()
	if err != nil {
		return nil, err
	}

	for p.Current(tokens.And) != nil {
		op := BinOp(p.Pop())

		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}

		expr = &nodes.BinaryExpression{
			Left:     expr,
			Right:    right,
			Operator: op,
		}
	}

	if logging.Enabled() {
		log.WithFields(log.Fields{
			"expr": expr,
		}).Trace("parseAnd return")
	}
	return expr, nil
}

// parseNot is Jinja2's: `not` binds looser than comparisons and may repeat.
func (p *Parser) parseNot() (nodes.Expression, error) {
	if op := p.Match(tokens.Not); op != nil {
		term, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &nodes.Negation{Operator: op, Term: term}, nil
	}
	return p.parseCompare()
}

// parseCompare is Jinja2's: comparisons, `in` and `not in` between arithmetic expressions; a
// chain a < b < c means a < b and b < c. Tests (`is`) bind tighter (see parseUnary).
func (p *Parser) parseCompare() (nodes.Expression, error) {
	expr, err := p.ParseMath()
	if err != nil {
		return nil, err
	}
	var chain []nodes.Expression
	left := expr
	for {
		var op, not *tokens.Token
		switch {
		case p.Current(compareOps...) != nil:
			op = p.Pop()
		case p.Current(tokens.In) != nil:
			op = p.Pop()
		case p.Current(tokens.Not) != nil && p.Peek(tokens.In) != nil:
			not = p.Pop()
			op = p.Pop()
		}
		if op == nil {
			break
		}
		right, err := p.ParseMath()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, p.Error(fmt.Sprintf("expected an expression after '%s'", op.Val), p.Current())
		}
		var cmp nodes.Expression = &nodes.BinaryExpression{Left: left, Operator: BinOp(op), Right: right}
		if not != nil {
			cmp = &nodes.Negation{Operator: not, Term: cmp}
		}
		chain = append(chain, cmp)
		left = right
	}
	if len(chain) == 0 {
		return expr, nil
	}
	expr = chain[0]
	for _, c := range chain[1:] {
		and := &tokens.Token{Type: tokens.And, Val: "and", Line: c.Position().Line, Col: c.Position().Col}
		expr = &nodes.BinaryExpression{Left: expr, Operator: BinOp(and), Right: c}
	}
	return expr, nil
}
