package main

func init() {
	addCommand(stageCommand("finalize", "commit the output directory: manifest, stats, report, axolotl.yaml, atomic move to OUT (one task)",
		`finalize verifies the earlier stages' outputs and moves the complete output into OUT in one rename, so
OUT is either the previous content or the whole new output.`, false))
}
