extension HooklineError {
    /// Runs a check of one field's value and names `field` as where its refusal lies: a check
    /// written for any input (a URL, a duration) says which field of a request it was about.
    public static func naming(_ field: String, _ check: () throws(HooklineError) -> Void) throws(HooklineError) {
        do {
            try check()
        } catch {
            switch error {
            case .invalidInput(let sentence), .invalidField(_, let sentence): throw .invalidField(field: field, sentence: sentence)
            default: throw error
            }
        }
    }
}
