import ArgumentParser
import HooklineCore

@main
struct Hookline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookline",
        abstract: "Deliver signed webhooks with retries and circuit breakers, and operate them from a console.",
        discussion: """
            The database is --db PATH, else $HOOKLINE_DB, else ./hookline.db.
            Exit codes: 0 success, 1 failure (for verify: invalid signature), 64 bad input, \
            65 not a Hookline database, 66 unknown id or missing database, 74 storage error, 75 conflict.
            """,
        version: HooklineVersion.current,
        subcommands: [
            EndpointCommand.self, EmitCommand.self, EventsCommand.self, EventCommand.self,
            DeliveriesCommand.self, AttemptsCommand.self, CatalogCommand.self, ReceiveCommand.self,
            VerifyCommand.self, ServeCommand.self, RedeliverCommand.self, BreakerCommand.self, StatsCommand.self, ConsoleCommand.self,
            DemoCommand.self, BenchCommand.self, PruneCommand.self, BackupCommand.self, TenantCommand.self,
        ]
    )
}
