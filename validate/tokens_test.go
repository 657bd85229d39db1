package validate

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// stdRow decodes a token row with encoding/json, the reference for parseTokenRow.
func stdRow(line []byte) (ids, mask, labels, pos []int32, err error) {
	var r struct {
		InputIDs  []int32 `json:"input_ids"`
		Attention []int32 `json:"attention_mask"`
		Labels    []int32 `json:"labels"`
		Positions []int32 `json:"position_ids"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&r); err == nil && !onlySpace(line[dec.InputOffset():]) {
		err = errTrailing
	}
	return r.InputIDs, r.Attention, r.Labels, r.Positions, err
}

var errTrailing = bytesError("trailing data")

type bytesError string

func (e bytesError) Error() string { return string(e) }

// checkAgainstStd fails when parseTokenRow accepts a line encoding/json rejects or reads it differently.
// (The reverse is allowed: parseTokenRow is stricter about null, duplicate and differently-cased keys.)
func checkAgainstStd(t *testing.T, line []byte) bool {
	var r tokenRow
	err := parseTokenRow(line, &r)
	ids, mask, labels, pos, stdErr := stdRow(line)
	if err != nil {
		return false
	}
	if stdErr != nil {
		t.Fatalf("%q: parseTokenRow accepted, encoding/json says %v", line, stdErr)
	}
	for _, c := range []struct{ got, want []int32 }{{r.inputIDs, ids}, {r.attention, mask}, {r.labels, labels}, {r.positions, pos}} {
		if len(c.got) != len(c.want) || !slices.Equal(c.got, c.want) {
			t.Fatalf("%q: got %v, encoding/json %v", line, c.got, c.want)
		}
	}
	return true
}

func TestParseTokenRowMatchesEncodingJSON(t *testing.T) {
	good := []string{
		`{"input_ids":[1,32001,2],"attention_mask":[1,1,1],"labels":[-100,-100,2]}`,
		` { "labels" : [ -100 ] , "input_ids":[0],"attention_mask":[1], "position_ids":[0] } `,
		`{"input_ids":[],"attention_mask":[],"labels":[]}`,
		`{"input_ids":[2147483647,-2147483648,0],"attention_mask":[1,1,1],"labels":[1,1,1]}`,
		`{"input\u005fids":[5],"attention_mask":[1],"labels":[5]}`,
		`{}`,
	}
	for _, l := range good {
		if !checkAgainstStd(t, []byte(l)) {
			var r tokenRow
			t.Fatalf("%s rejected: %v", l, parseTokenRow([]byte(l), &r))
		}
	}
	bad := map[string]string{
		`{"input_ids":[1.0],"attention_mask":[1],"labels":[1]}`: "not an integer",
		`{"input_ids":[1e3]}`:                    "not an integer",
		`{"input_ids":[01]}`:                     "want an integer",
		`{"input_ids":[2147483648]}`:             "out of range",
		`{"input_ids":[-2147483649]}`:            "out of range",
		`{"input_ids":[1,]}`:                     "want an integer",
		`{"input_ids":[1] "labels":[1]}`:         "want ',' or '}'",
		`{"input_ids":[1],"input_ids":[2]}`:      "appears twice",
		`{"input_ids":[1],"length":1}`:           `unexpected field "length"`,
		`{"input_ids":null}`:                     "want an array",
		`{"input_ids":[1]}x`:                     "unexpected data",
		`{"input_ids":[1]`:                       "want ',' or '}'",
		`["input_ids"]`:                          "want a JSON object",
		`{"input_ids":["1"]}`:                    "want an integer",
		`{"input_ids":[-]}`:                      "want an integer",
		"{\"input_ids\":[1],\"lab\x01els\":[1]}": "control character",
		`{"input_ids":[1],"attention_mask":[1],"labels":[1],"position_`: "unterminated string",
	}
	for l, want := range bad {
		var r tokenRow
		err := parseTokenRow([]byte(l), &r)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", l, err, want)
		}
	}
}

func FuzzParseTokenRow(f *testing.F) {
	f.Add([]byte(`{"input_ids":[1,32001,2],"attention_mask":[1,1,1],"labels":[-100,-100,2],"position_ids":[0,1,0]}`))
	f.Add([]byte(`{"labels":[-0],"input_ids":[ 7 ]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkAgainstStd(t, line)
	})
}

func TestCheckTokenRow(t *testing.T) {
	r := tokenRow{inputIDs: []int32{1, 5, 6, 2}, attention: []int32{1, 1, 1, 1}, labels: []int32{-100, -100, 6, 2},
		positions: []int32{0, 1, 0, 1}, seen: fieldInputIDs | fieldAttention | fieldLabels | fieldPositions}
	probs, n := checkTokenRow(&r, tokenLimits{vocab: 10, seqLen: 4, packed: true})
	if len(probs) != 0 || n != 2 {
		t.Fatalf("good row: %v, %d samples", probs, n)
	}
	probs, _ = checkTokenRow(&r, tokenLimits{vocab: 10, seqLen: 4})
	if len(probs) != 1 || !strings.Contains(probs[0], `unexpected field "position_ids"`) {
		t.Fatalf("position_ids in a tokenized row: %v", probs)
	}
	probs, _ = checkTokenRow(&r, tokenLimits{vocab: 6, seqLen: 3, packed: true})
	if len(probs) != 2 || !strings.Contains(probs[0], "4 tokens, more than sequence_len 3") || !strings.Contains(probs[1], "input_ids[2] = 6 is outside") {
		t.Fatalf("limits: %v", probs)
	}
	r.seen &^= fieldLabels
	if probs, _ = checkTokenRow(&r, tokenLimits{vocab: 10, seqLen: 4, packed: true}); len(probs) != 1 || probs[0] != `missing field "labels"` {
		t.Fatalf("missing labels: %v", probs)
	}
}
