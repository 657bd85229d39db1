package main

func init() {
	addCommand(stageCommand("write", "write the output shards assigned to one task (array task)",
		`write writes whole output shards (a shard never spans tasks) to DIR/write/<task>/. In this version
reduce still writes the shards and write tasks only commit an empty marker (stage/README.md, phase 2).`, true))
}
