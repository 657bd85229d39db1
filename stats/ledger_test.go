package stats

import (
	"strings"
	"testing"
)

func TestLedgerAddsUp(t *testing.T) {
	l := NewLedger("select", "filter")
	for i := 0; i < 5; i++ {
		l.Read("flan")
		l.Pass("select")
		if i < 2 {
			l.Drop("flan", "filter", "refusal")
			continue
		}
		l.Pass("filter")
		l.Keep("flan")
	}
	l.Read("t0")
	l.Drop("t0", "select", ReasonNotSelected)
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	if l.RowsRead != 6 || l.RowsKept != 3 || l.Dropped["refusal"] != 2 || l.Stages[1].In != 5 || l.Stages[1].Out != 3 {
		t.Fatalf("counts wrong: %+v", l)
	}
}

func TestLedgerDetectsLoss(t *testing.T) {
	l := NewLedger()
	l.Read("cot")
	l.Read("cot")
	l.Keep("cot")
	err := l.Check()
	if err == nil || !strings.Contains(err.Error(), "does not add up") {
		t.Fatalf("lost row not detected: %v", err)
	}
	l2 := NewLedger("x")
	l2.Read("cot")
	l2.Keep("cot")
	l2.Stages[0].In = 1 // a stage saw a row that vanished
	if err := l2.Check(); err == nil {
		t.Fatal("stage imbalance not detected")
	}
	// A row counted twice by a stage balances that stage but breaks the chain.
	l3 := NewLedger("a", "b")
	l3.Read("cot")
	l3.Pass("a")
	l3.Pass("b")
	l3.Pass("b")
	l3.Keep("cot")
	if err := l3.Check(); err == nil || !strings.Contains(err.Error(), "stage b saw 2 rows") {
		t.Fatalf("double-counted stage not detected: %v", err)
	}
}
