package exec

import (
	"fmt"
	"math"
	"strings"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/tokens"
)

// Arithmetic as Python does it: / always gives a float, // floors, % takes the sign of the
// divisor, ** of two integers is an integer, and a division or modulo by zero is an error (at
// the operator's line). A string on the left of % is printf-style formatting (pyformat.go).

// numeric is a number operand: an int (a bool counts as 0 or 1, as in Python) or a float.
func numeric(v *Value) (isNum, isFloat bool) {
	switch {
	case v.IsFloat():
		return true, true
	case v.IsInteger(), v.IsBool():
		return true, false
	}
	return false, false
}

func intOf(v *Value) int {
	if v.IsBool() {
		if v.Bool() {
			return 1
		}
		return 0
	}
	return v.Integer()
}

func floatOf(v *Value) float64 {
	if v.IsBool() {
		return float64(intOf(v))
	}
	return v.Float()
}

// pyType is Python's name of v's type, for error messages.
func pyType(v *Value) string {
	switch {
	case v.IsNil():
		return "NoneType"
	case v.IsBool():
		return "bool"
	case v.IsInteger():
		return "int"
	case v.IsFloat():
		return "float"
	case v.IsString():
		return "str"
	case v.IsList():
		return "list"
	case v.IsDict():
		return "dict"
	}
	return "object"
}

func opError(node *nodes.BinaryExpression, format string, args ...any) *Value {
	line := 0
	if pos := node.Position(); pos != nil {
		line = pos.Line
	}
	return AsValue(fmt.Errorf("%s at line %d", fmt.Sprintf(format, args...), line))
}

// evalArithmetic computes /, //, % and ** (ok is false for another operator).
func (e *Evaluator) evalArithmetic(node *nodes.BinaryExpression, left, right *Value) (result *Value, ok bool) {
	op := node.Operator.Token.Type
	switch op {
	case tokens.Division, tokens.FloorDivision, tokens.Modulo, tokens.Power:
	default:
		return nil, false
	}
	if op == tokens.Modulo && left.IsString() {
		return e.pyFormat(node, left, right), true
	}
	lNum, lFloat := numeric(left)
	rNum, rFloat := numeric(right)
	if !lNum || !rNum {
		return opError(node, "unsupported operand types for %s: '%s' and '%s'", node.Operator.Token.Val, pyType(left), pyType(right)), true
	}
	floats := lFloat || rFloat
	switch op {
	case tokens.Division:
		if floatOf(right) == 0 {
			return opError(node, "division by zero"), true
		}
		return AsValue(floatOf(left) / floatOf(right)), true
	case tokens.FloorDivision:
		if floatOf(right) == 0 {
			return opError(node, "integer division by zero"), true
		}
		if floats {
			return AsValue(math.Floor(floatOf(left) / floatOf(right))), true
		}
		a, b := intOf(left), intOf(right)
		q := a / b
		if (a%b != 0) && ((a < 0) != (b < 0)) {
			q--
		}
		return AsValue(q), true
	case tokens.Modulo:
		if floatOf(right) == 0 {
			return opError(node, "modulo by zero"), true
		}
		if floats {
			a, b := floatOf(left), floatOf(right)
			m := math.Mod(a, b)
			if m != 0 && (m < 0) != (b < 0) {
				m += b
			}
			return AsValue(m), true
		}
		a, b := intOf(left), intOf(right)
		m := a % b
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		return AsValue(m), true
	default: // Power
		if !floats && intOf(right) >= 0 {
			base, exp, out := intOf(left), intOf(right), 1
			for exp > 0 {
				if exp&1 == 1 {
					out *= base
				}
				base *= base
				exp >>= 1
			}
			return AsValue(out), true
		}
		if floatOf(left) == 0 && floatOf(right) < 0 {
			return opError(node, "zero to a negative power"), true
		}
		return AsValue(math.Pow(floatOf(left), floatOf(right))), true
	}
}

// addSubMul is +, - and * (the list concatenation of + is done before): numbers (a bool is 0
// or 1), str + str, str * int and list * int; any other mix is an error, as in Python.
func addSubMul(node *nodes.BinaryExpression, left, right *Value) *Value {
	op := node.Operator.Token.Type
	lNum, lFloat := numeric(left)
	rNum, rFloat := numeric(right)
	switch {
	case lNum && rNum:
		if lFloat || rFloat {
			a, b := floatOf(left), floatOf(right)
			switch op {
			case tokens.Addition:
				return AsValue(a + b)
			case tokens.Subtraction:
				return AsValue(a - b)
			}
			return AsValue(a * b)
		}
		a, b := intOf(left), intOf(right)
		switch op {
		case tokens.Addition:
			return AsValue(a + b)
		case tokens.Subtraction:
			return AsValue(a - b)
		}
		return AsValue(a * b)
	case op == tokens.Addition && left.IsString() && right.IsString():
		return AsValue(left.String() + right.String())
	case op == tokens.Multiply && (left.IsString() || left.IsList()) && rNum && !rFloat:
		return repeatValue(left, intOf(right))
	case op == tokens.Multiply && (right.IsString() || right.IsList()) && lNum && !lFloat:
		return repeatValue(right, intOf(left))
	case op == tokens.Addition && left.IsString():
		return opError(node, `can only concatenate str (not "%s") to str (use ~ to join a string and a number)`, pyType(right))
	}
	return opError(node, "unsupported operand types for %s: '%s' and '%s'", node.Operator.Token.Val, pyType(left), pyType(right))
}

func repeatValue(v *Value, n int) *Value {
	if n < 0 {
		n = 0
	}
	if v.IsString() {
		return AsValue(strings.Repeat(v.String(), n))
	}
	out := make([]any, 0, v.Len()*n)
	for range n {
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i).Interface())
		}
	}
	return AsValue(out)
}

// orderingError is Python's TypeError for <, <=, > and >= between a number and a string, or
// with none on either side.
func orderingError(node *nodes.BinaryExpression, left, right *Value) (*Value, bool) {
	switch node.Operator.Token.Type {
	case tokens.LowerThan, tokens.LowerThanOrEqual, tokens.GreaterThan, tokens.GreaterThanOrEqual:
	default:
		return nil, false
	}
	lNum, _ := numeric(left)
	rNum, _ := numeric(right)
	if lNum && right.IsString() || left.IsString() && rNum || left.IsNil() || right.IsNil() {
		return opError(node, "'%s' not supported between instances of '%s' and '%s'", node.Operator.Token.Val, pyType(left), pyType(right)), true
	}
	return nil, false
}
