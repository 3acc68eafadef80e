import ArgumentParser
import HooklineCore

/// `--tenant`, the tenant a command acts for or a listing is scoped to.
struct TenantOption: ParsableArguments {
    @Option(help: ArgumentHelp("The tenant (its id, from `hookline tenant list`); default: the tenant 'default'.", valueName: "tenant"))
    var tenant: String?

    /// The tenant to act for: the one given, or `default`. Checked here, in `execute`, so that a bad
    /// id is one `hookline:` sentence like every other refusal.
    func acting() throws(HooklineError) -> String {
        guard let tenant else { return Tenant.defaultID }
        try Tenant.validate(id: tenant)
        return tenant
    }
}

/// `--tenant` on a listing: only that tenant's rows; every tenant's without it.
struct TenantFilter: ParsableArguments {
    @Option(help: ArgumentHelp("Only this tenant's rows (its id, from `hookline tenant list`); default: every tenant's.", valueName: "tenant"))
    var tenant: String?

    /// The tenant to list, checked here, in `execute`, so that a bad id is one `hookline:` sentence.
    func scope() throws(HooklineError) -> String? {
        if let tenant { try Tenant.validate(id: tenant) }
        return tenant
    }
}
