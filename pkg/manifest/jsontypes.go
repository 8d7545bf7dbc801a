package manifest

import (
	"math"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// asJSONObject turns a decoded YAML mapping into the object a JSON round trip (json.Marshal,
// then Unstructured.UnmarshalJSON) would give, in place and without the round trip, which is
// most of the cost of decoding thousands of objects. It returns false, with m possibly partly
// converted but equal in value, when some value needs the round trip to get its exact meaning
// (time stamps, non-string keys, invalid UTF-8, NaN, integers past int64, no kind): the caller
// then takes it.
func asJSONObject(m map[string]any) (*unstructured.Unstructured, bool) {
	if k, ok := m["kind"].(string); !ok || k == "" {
		return nil, false
	}
	if !jsonMap(m) {
		return nil, false
	}
	return &unstructured.Unstructured{Object: m}, true
}

func jsonMap(m map[string]any) bool {
	for k, v := range m {
		if !utf8.ValidString(k) {
			return false
		}
		c, ok := jsonValue(v)
		if !ok {
			return false
		}
		m[k] = c
	}
	return true
}

// jsonValue is v as JSON decoding produces it: integers as int64, other numbers as float64.
func jsonValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return jsonFloat(x)
	case map[string]any:
		return x, jsonMap(x)
	case []any:
		for i, e := range x {
			c, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			x[i] = c
		}
		return x, true
	}
	return nil, false
}

// jsonFloat: json.Marshal writes an integral float as its digits, which decode as an int64;
// other floats decode back as the same float64. Integral floats from 2^53 on (where digits,
// int64 and float64 part ways) are left to the round trip.
func jsonFloat(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == math.Trunc(f) {
		if math.Abs(f) >= 1<<53 {
			return nil, false
		}
		return int64(f), true
	}
	return f, true
}
