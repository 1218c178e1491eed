import Central

@main
struct CentralMain {
    static func main() async {
        await CentralCommand.main()
    }
}
