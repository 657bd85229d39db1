package main

func init() {
	addCommand(stageCommand("reduce", "replay dedupe, token budget and ledger over every map task in input order (one task)",
		`reduce verifies every map task's records against their checksums, then replays the ordered stages
(dedupe: first occurrence wins, exactly as in one process; the token budget; the ledger and statistics;
packing) over them in input order. It writes rejected/ and the shard plan (which rows go to which shard,
cut as the shard writer of a single-process run cuts them) to DIR/reduce/00000/.`, false))
}
