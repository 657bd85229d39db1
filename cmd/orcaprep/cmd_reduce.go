package main

func init() {
	addCommand(stageCommand("reduce", "replay dedupe, token budget and ledger over every map task in input order (one task)",
		`reduce verifies every map task's outputs against their checksums, then replays the ordered stages
(dedupe: first occurrence wins, exactly as in one process; the token budget; the ledger and statistics;
packing) over them in input order, writing DIR/reduce/00000/.`, false))
}
