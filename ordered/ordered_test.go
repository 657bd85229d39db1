package ordered

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestPutReleasesInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	perm := r.Perm(1000)
	var b Buffer[int]
	var got []int
	for _, seq := range perm {
		if err := b.Put(seq, seq*10, func(v int) error { got = append(got, v); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1000 || b.Waiting() != 0 {
		t.Fatalf("released %d, waiting %d", len(got), b.Waiting())
	}
	for i, v := range got {
		if v != i*10 {
			t.Fatalf("item %d is %d", i, v)
		}
	}
}

func TestPutHoldsGapsAndStopsOnError(t *testing.T) {
	var b Buffer[string]
	var got []string
	emit := func(s string) error {
		if s == "bad" {
			return errors.New("boom")
		}
		got = append(got, s)
		return nil
	}
	b.Put(1, "b", emit)
	b.Put(2, "bad", emit)
	if len(got) != 0 || b.Waiting() != 2 {
		t.Fatalf("released before item 0: %v", got)
	}
	if err := b.Put(0, "a", emit); err == nil || len(got) != 2 {
		t.Fatalf("want error after a, b; got %v %v", err, got)
	}
}
