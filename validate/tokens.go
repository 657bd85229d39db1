package validate

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// ignoreIndex is the label of a token the loss skips (PyTorch's ignore_index, Axolotl's IGNORE_INDEX).
const ignoreIndex = -100

// tokenRow is one parsed line of the tokenized or packed format. Slices are reused between lines.
type tokenRow struct {
	inputIDs, attention, labels, positions []int32
	seen                                   uint8 // bit per field present
}

const (
	fieldInputIDs = 1 << iota
	fieldAttention
	fieldLabels
	fieldPositions
)

var tokenFields = []struct {
	name string
	bit  uint8
}{{"input_ids", fieldInputIDs}, {"attention_mask", fieldAttention}, {"labels", fieldLabels}, {"position_ids", fieldPositions}}

// parseTokenRow parses a line that must be a JSON object whose members are all integer arrays named as
// in tokenFields. It is a purpose-built parser because a packed 16k row holds 65k integers and a full
// dataset billions; encoding/json would dominate validation time. Tests check it against encoding/json.
func parseTokenRow(line []byte, r *tokenRow) error {
	p := parser{b: line}
	r.seen = 0
	p.ws()
	if !p.eat('{') {
		return p.errorf("want a JSON object")
	}
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			key, err := p.str()
			if err != nil {
				return err
			}
			p.ws()
			if !p.eat(':') {
				return p.errorf("want ':' after %q", key)
			}
			p.ws()
			var dst *[]int32
			var bit uint8
			switch key {
			case "input_ids":
				dst, bit = &r.inputIDs, fieldInputIDs
			case "attention_mask":
				dst, bit = &r.attention, fieldAttention
			case "labels":
				dst, bit = &r.labels, fieldLabels
			case "position_ids":
				dst, bit = &r.positions, fieldPositions
			default:
				return fmt.Errorf("unexpected field %q", key)
			}
			if r.seen&bit != 0 {
				return fmt.Errorf("field %q appears twice", key)
			}
			r.seen |= bit
			if *dst, err = p.ints((*dst)[:0], key); err != nil {
				return err
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat('}') {
				break
			}
			return p.errorf("want ',' or '}' after %q", key)
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return p.errorf("unexpected data after the object")
	}
	return nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.i, fmt.Sprintf(format, a...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a JSON string; escapes are rare in keys, so they go through encoding/json.
func (p *parser) str() (string, error) {
	if !p.eat('"') {
		return "", p.errorf("want a string")
	}
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			p.i++
			if !escaped {
				return string(p.b[start : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

// ints parses a JSON array of integers that fit in int32 and appends them to dst.
func (p *parser) ints(dst []int32, key string) ([]int32, error) {
	if !p.eat('[') {
		return dst, p.errorf("%q: want an array of integers", key)
	}
	p.ws()
	if p.eat(']') {
		return dst, nil
	}
	for {
		p.ws()
		start := p.i
		neg := p.eat('-')
		digits := p.i
		var v int64
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			v = v*10 + int64(p.b[p.i]-'0')
			p.i++
			if v > 1<<31 {
				return dst, p.errorf("%q: integer out of range", key)
			}
		}
		n := p.i - digits
		if n == 0 || (n > 1 && p.b[digits] == '0') {
			return dst, p.errorf("%q: want an integer", key)
		}
		if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
			return dst, p.errorf("%q: %s… is not an integer", key, strconv.Quote(string(p.b[start:p.i+1])))
		}
		if neg {
			v = -v
		}
		if v > 1<<31-1 || v < -1<<31 {
			return dst, p.errorf("%q: integer out of range", key)
		}
		dst = append(dst, int32(v))
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat(']') {
			return dst, nil
		}
		return dst, p.errorf("%q: want ',' or ']'", key)
	}
}

// tokenLimits are what a token row is checked against.
type tokenLimits struct {
	vocab  int
	seqLen int
	packed bool
}

// checkTokenRow returns what is wrong with a parsed row (one message per failed check, naming the first
// offending position) and the number of samples in it: position_ids resets for packed rows, 1 otherwise,
// -1 when the row is too broken to count them.
func checkTokenRow(r *tokenRow, lim tokenLimits) (problems []string, samples int) {
	for _, f := range tokenFields {
		if f.bit == fieldPositions {
			if !lim.packed {
				if r.seen&f.bit != 0 {
					problems = append(problems, `unexpected field "position_ids" in a tokenized row (only packed rows have it)`)
				}
				continue
			}
		}
		if r.seen&f.bit == 0 {
			problems = append(problems, fmt.Sprintf("missing field %q", f.name))
		}
	}
	if len(problems) > 0 {
		return problems, -1
	}
	n := len(r.inputIDs)
	if n == 0 {
		return []string{"input_ids is empty"}, -1
	}
	if len(r.attention) != n || len(r.labels) != n || (lim.packed && len(r.positions) != n) {
		msg := fmt.Sprintf("array lengths differ: input_ids %d, attention_mask %d, labels %d", n, len(r.attention), len(r.labels))
		if lim.packed {
			msg += fmt.Sprintf(", position_ids %d", len(r.positions))
		}
		return []string{msg}, -1
	}
	if n > lim.seqLen {
		problems = append(problems, fmt.Sprintf("row has %d tokens, more than sequence_len %d", n, lim.seqLen))
	}
	for i, id := range r.inputIDs {
		if id < 0 || int(id) >= lim.vocab {
			problems = append(problems, fmt.Sprintf("input_ids[%d] = %d is outside the vocabulary [0, %d)", i, id, lim.vocab))
			break
		}
	}
	for i, m := range r.attention {
		if m != 1 {
			problems = append(problems, fmt.Sprintf("attention_mask[%d] = %d, want 1", i, m))
			break
		}
	}
	for i, l := range r.labels {
		if l != ignoreIndex && l != r.inputIDs[i] {
			problems = append(problems, fmt.Sprintf("labels[%d] = %d is neither -100 nor input_ids[%d] = %d", i, l, i, r.inputIDs[i]))
			break
		}
	}
	if !lim.packed {
		return problems, 1
	}
	for i, p := range r.positions {
		if p == 0 {
			samples++
			continue
		}
		if i == 0 {
			problems = append(problems, fmt.Sprintf("position_ids[0] = %d, want 0", p))
			break
		}
		if p != r.positions[i-1]+1 {
			problems = append(problems, fmt.Sprintf("position_ids[%d] = %d after %d: want %d, or 0 to start a sample", i, p, r.positions[i-1], r.positions[i-1]+1))
			break
		}
	}
	return problems, samples
}
