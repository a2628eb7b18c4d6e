import TorsionTool

// The whole tool lives in TorsionTool so that tests can drive it.
TorsionCommand.main()
