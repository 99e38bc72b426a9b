import ArgumentParser
struct MeasureCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "measure", shouldDisplay: false); func run() throws {} }
