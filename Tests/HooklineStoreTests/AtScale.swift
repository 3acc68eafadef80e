import Testing

/// The suites that build a thousand endpoints or more. They run one test at a time: each is heavy
/// enough that several at once on two cores would starve the other suites' receivers, whose tests
/// compare the order of events.
@Suite(.serialized) enum AtScale {}
