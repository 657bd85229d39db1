package main

func init() {
	addCommand(stageCommand("map", "run the per-row stages on one task's row-group range (array task)",
		`map reads the task's row groups and runs select, validate, filter, exact keys, near signatures,
rendering and tokenizing on them, writing the per-row results to DIR/map/<task>/.`, true))
}
