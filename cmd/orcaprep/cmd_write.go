package main

func init() {
	addCommand(stageCommand("write", "write the output shards assigned to one task (array task)",
		`write task k writes the whole shards s ≡ k (mod the task count) that reduce planned — every row's line
(or packed row) read from the map task that rendered it and checked against its record's checksum — to
DIR/write/<task>/data/ and index/. A shard never spans tasks, so its bytes are those of a single-process run.`, true))
}
