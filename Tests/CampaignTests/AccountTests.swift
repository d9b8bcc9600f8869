import Campaign
import Testing

/// Accounts as events (docs/accounts.md): only the office enrolls, changes and revokes; an enrolled
/// actor acts with its account's role and unit, and not at all once revoked.
@Suite("Accounts: who may act as whom")
struct AccountTests {
    /// `registered()` with unit/zhang (of U-city) enrolled.
    static func enrolled() -> World {
        var world = World.registered()
        world.given(Staff.cityStaff.name, .enroll("张三", .unit, unit: "U-city"))
        world.bring("P-1", to: .assigned)
        return world
    }

    @Test("an enrolled actor acts with its account's role and unit")
    func actsAsItsAccount() {
        let world = Self.enrolled()
        expectAccepted(event("P-1", .submit(), by: .cityStaff, at: days(1)), in: world)
        // The same person writing itself another unit, or another role, is refused as the account's.
        let otherUnit = event("P-1", .submit(), by: Staff.cityStaff.with(unit: "U-traffic"), at: days(1))
        let refusal = expectRefusal(.account, otherUnit, in: world)
        #expect(refusal?.message.contains("U-city") == true, "\(refusal?.message ?? "")")
        let asInspector = event("P-1", .verify, by: Staff.cityStaff.with(role: .inspector).with(unit: "U-inspect"), at: days(1))
        expectRefusal(.account, asInspector, in: world)
    }

    @Test("a revoked account writes nothing; a changed one acts with its new unit")
    func revokedAndChanged() throws {
        var world = Self.enrolled()
        try world.append(event(Staff.cityStaff.name, .accountChanged(AccountChange(unit: "U-traffic")), at: world.next()))
        #expect(world.state.record(Staff.cityStaff.name)?.account?.unit == "U-traffic")
        expectRefusal(.account, event("P-1", .submit(), by: .cityStaff, at: days(1)), in: world)
        world.bring("P-2", to: .reported)
        try world.append(event("P-2", .assign("U-traffic", deadline: days(9)), at: world.next()))
        expectAccepted(event("P-2", .submit(), by: Staff.cityStaff.with(unit: "U-traffic"), at: world.next()), in: world)

        try world.append(event(Staff.cityStaff.name, .accountRevoked(reason: "调离"), at: world.next()))
        let refusal = expectRefusal(.account, event("P-2", .submit(), by: Staff.cityStaff.with(unit: "U-traffic"), at: world.next()), in: world)
        #expect(refusal?.message.contains("已停用") == true)
        expectRefusal(.lifecycle, event(Staff.cityStaff.name, .accountRevoked(reason: "再次"), at: world.next()), in: world)
        expectRefusal(.lifecycle, event(Staff.cityStaff.name, .accountChanged(AccountChange(role: .office)), at: world.next()), in: world)
        expectRefusal(.lifecycle, event(Staff.cityStaff.name, .enroll("张三", .unit, unit: "U-city"), at: world.next()), in: world)
    }

    @Test("only the office enrolls; a unit is required but for discipline and auditor, and must be registered")
    func enrolment() {
        let world = World.registered()
        expectRefusal(.role, event("unit/new", .enroll("王五", .unit, unit: "U-city"), by: .inspector), in: world)
        expectRefusal(.role, event("unit/new", .enroll("王五", .unit, unit: "U-city"), by: .cityStaff), in: world)
        expectRefusal(.malformed, event("unit/new", .enroll("王五", .unit, unit: nil)), in: world)
        expectRefusal(.reference, event("unit/new", .enroll("王五", .unit, unit: "U-nowhere")), in: world)
        expectRefusal(.malformed, event("unit/new", .enroll(" ", .unit, unit: "U-city")), in: world)
        expectAccepted(event("discipline/zhou", .enroll("周", .discipline, unit: nil)), in: world)
        expectRefusal(.reference, event("unit/none", .accountChanged(AccountChange(unit: "U-city"))), in: world)
        expectRefusal(.reference, event("unit/none", .accountRevoked(reason: "离职")), in: world)
    }

    @Test("a change that names nothing, or leaves a unit role without a unit, is refused")
    func emptyChange() {
        var world = World.registered()
        world.given("discipline/zhou", .enroll("周", .discipline, unit: nil))
        expectRefusal(.malformed, event("discipline/zhou", .accountChanged(AccountChange()), at: world.next()), in: world)
        expectRefusal(.malformed, event("discipline/zhou", .accountChanged(AccountChange(role: .inspector)), at: world.next()), in: world)
        expectAccepted(event("discipline/zhou", .accountChanged(AccountChange(role: .inspector, unit: "U-city")), at: world.next()), in: world)
    }
}
