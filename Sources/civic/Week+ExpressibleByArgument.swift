import ArgumentParser
import Campaign

extension Week: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
