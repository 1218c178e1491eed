/// Defaults the vendor bakes into its build of the edge. Packaging replaces `centralURL` with
/// the vendor's central; customers override it with `CENTRAL_URL` only when told to.
public enum VendorDefaults {
    public static let centralURL = "http://localhost:8080"
}
