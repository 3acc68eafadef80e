import Foundation

/// Everything Hookline keeps, behind one seam made of four roles, so that another database can
/// stand in for SQLite: ``DispatchStore`` (what a dispatcher needs), ``OperationsStore`` (what
/// ``Operations`` changes), ``ConsoleStore`` (what the console and the listings read) and
/// ``StoreMaintenance`` (pruning and closing). A part that needs one role takes that role.
///
/// Every method is one transaction: a crash leaves either all of a change or none of it.
/// Mutations that an operator makes carry an ``AuditEntry`` that is written in the same transaction.
public protocol HooklineStore: DispatchStore, OperationsStore, ConsoleStore, StoreMaintenance {
    /// Where the data lives, for headers and messages (a path or a connection string without secrets).
    var location: String { get }
}
