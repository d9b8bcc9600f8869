/// A closed list of codes, each with the Chinese label users read (docs/formats.md).
public protocol Vocabulary: RawRepresentable<String>, CaseIterable, Sendable, Hashable {
    /// The Chinese label, e.g. `暗访曝光` for `covert_exposure`.
    var label: String { get }
    /// The number it is stored by, written down case by case (the .proto's enum value, from 1): part of the
    /// stored format, so never renumbered, whatever the order of the cases.
    var number: Int { get }
    /// The entry stored as `number`, nil for a number no entry has.
    init?(number: Int)
}

extension Vocabulary {
    /// The entry whose code or Chinese label is `text` (spaces around it ignored).
    public init?(codeOrLabel text: String) {
        let t = text.trimmingSpaces
        guard let found = Self.allCases.first(where: { $0.rawValue == t || $0.label == t }) else { return nil }
        self = found
    }

    /// Every code with its label, for messages: `covert_exposure(暗访曝光), inspection(督查检查), …`.
    public static var listing: String {
        allCases.map { "\($0.rawValue)(\($0.label))" }.joined(separator: ", ")
    }
}

/// Who appends (docs/rules.md, "Who may record what"): the role decides which event types an actor may append.
public enum Role: String, Vocabulary {
    case inspector, office, unit, discipline, auditor
    public var number: Int {
        switch self {
        case .inspector: 1
        case .office: 2
        case .unit: 3
        case .discipline: 4
        case .auditor: 5
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .inspector
        case 2: self = .office
        case 3: self = .unit
        case 4: self = .discipline
        case 5: self = .auditor
        default: return nil
        }
    }
    public var label: String {
        switch self {
        case .inspector: "督查员"
        case .office: "创文办"
        case .unit: "责任单位"
        case .discipline: "纪工委"
        case .auditor: "审计查阅"
        }
    }
}

/// The kind of a responsible unit.
public enum UnitKind: String, Vocabulary {
    case department, street, community, enterprise, other
    case partyOrganization = "party_organization"
    public var number: Int {
        switch self {
        case .department: 1
        case .street: 2
        case .community: 3
        case .enterprise: 4
        case .other: 5
        case .partyOrganization: 6
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .department
        case 2: self = .street
        case 3: self = .community
        case 4: self = .enterprise
        case 5: self = .other
        case 6: self = .partyOrganization
        default: return nil
        }
    }
    public var label: String {
        switch self {
        case .department: "部门"
        case .street: "街道"
        case .community: "社区"
        case .enterprise: "企业"
        case .other: "其他"
        case .partyOrganization: "党组织"
        }
    }
}

/// Where a problem, or a list of problems, came from.
public enum ProblemSource: String, Vocabulary {
    case covertExposure = "covert_exposure"
    case inspection
    case specialSupervision = "special_supervision"
    case publicReport = "public_report"
    case onlineMaterials = "online_materials"
    case lookBack = "look_back"
    case other
    public var number: Int {
        switch self {
        case .covertExposure: 1
        case .inspection: 2
        case .specialSupervision: 3
        case .publicReport: 4
        case .onlineMaterials: 5
        case .lookBack: 6
        case .other: 7
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .covertExposure
        case 2: self = .inspection
        case 3: self = .specialSupervision
        case 4: self = .publicReport
        case 5: self = .onlineMaterials
        case 6: self = .lookBack
        case 7: self = .other
        default: return nil
        }
    }
    public var label: String {
        switch self {
        case .covertExposure: "暗访曝光"
        case .inspection: "督查检查"
        case .specialSupervision: "专项督导"
        case .publicReport: "群众举报"
        case .onlineMaterials: "网报资料审核"
        case .lookBack: "回头看"
        case .other: "其他"
        }
    }
}

/// What kind of problem it is.
public enum Category: String, Vocabulary {
    case cityAppearance = "city_appearance"
    case streetVending = "street_vending"
    case illegalConstruction = "illegal_construction"
    case disorderlyParking = "disorderly_parking"
    case sanitation
    case trafficOrder = "traffic_order"
    case publicFacilities = "public_facilities"
    case publicAds = "public_ads"
    case marketOrder = "market_order"
    case civility
    case greenery
    case onlineMaterials = "online_materials"
    case other
    public var number: Int {
        switch self {
        case .cityAppearance: 1
        case .streetVending: 2
        case .illegalConstruction: 3
        case .disorderlyParking: 4
        case .sanitation: 5
        case .trafficOrder: 6
        case .publicFacilities: 7
        case .publicAds: 8
        case .marketOrder: 9
        case .civility: 10
        case .greenery: 11
        case .onlineMaterials: 12
        case .other: 13
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .cityAppearance
        case 2: self = .streetVending
        case 3: self = .illegalConstruction
        case 4: self = .disorderlyParking
        case 5: self = .sanitation
        case 6: self = .trafficOrder
        case 7: self = .publicFacilities
        case 8: self = .publicAds
        case 9: self = .marketOrder
        case 10: self = .civility
        case 11: self = .greenery
        case 12: self = .onlineMaterials
        case 13: self = .other
        default: return nil
        }
    }
    public var label: String {
        switch self {
        case .cityAppearance: "市容市貌"
        case .streetVending: "占道经营"
        case .illegalConstruction: "违规搭建"
        case .disorderlyParking: "乱停乱放"
        case .sanitation: "环境卫生"
        case .trafficOrder: "交通秩序"
        case .publicFacilities: "公共设施"
        case .publicAds: "公益广告"
        case .marketOrder: "市场秩序"
        case .civility: "文明行为"
        case .greenery: "绿化"
        case .onlineMaterials: "网报资料"
        case .other: "其他"
        }
    }
}

/// An accountability measure (追责问责).
public enum Measure: String, Vocabulary {
    case reminderTalk = "reminder_talk"
    case interview
    case writtenSelfCriticism = "written_self_criticism"
    case circulatedCriticism = "circulated_criticism"
    case admonishment
    /// The one measure of the first logs for both sanctions; read, never taken in a new event.
    case disciplinarySanction = "disciplinary_sanction"
    case organizationalHandling = "organizational_handling"
    case criticismEducation = "criticism_education"
    case orderedRectification = "ordered_rectification"
    case reorganization
    case partyDiscipline = "party_discipline"
    case governmentSanction = "government_sanction"
    public var number: Int {
        switch self {
        case .reminderTalk: 1
        case .interview: 2
        case .writtenSelfCriticism: 3
        case .circulatedCriticism: 4
        case .admonishment: 5
        case .disciplinarySanction: 6
        case .organizationalHandling: 7
        case .criticismEducation: 8
        case .orderedRectification: 9
        case .reorganization: 10
        case .partyDiscipline: 11
        case .governmentSanction: 12
        }
    }

    public init?(number: Int) {
        guard let found = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = found
    }
    public var label: String {
        switch self {
        case .reminderTalk: "提醒谈话"
        case .interview: "约谈"
        case .writtenSelfCriticism: "责令检查"
        case .circulatedCriticism: "通报批评"
        case .admonishment: "诫勉"
        case .disciplinarySanction: "党纪政务处分"
        case .organizationalHandling: "组织调整或组织处理"
        case .criticismEducation: "批评教育"
        case .orderedRectification: "责令整改"
        case .reorganization: "改组"
        case .partyDiscipline: "党纪处分"
        case .governmentSanction: "政务处分"
        }
    }

    /// The measures a target of `kind` may receive (docs/rules.md, "Accountability"): a unit (单位 or
    /// 党组织) is criticised, interviewed, ordered to examine itself or to rectify, a party organization
    /// reorganized; a person may also be reminded, criticised and educated, admonished (诫勉), moved or
    /// handled by the organization, and sanctioned by the party (党纪处分) or by the state (政务处分).
    public static func allowed(for kind: TargetKind) -> [Measure] {
        switch kind {
        case .unit: [.circulatedCriticism, .interview, .writtenSelfCriticism, .orderedRectification, .reorganization]
        case .person: [.reminderTalk, .criticismEducation, .interview, .writtenSelfCriticism, .circulatedCriticism,
                       .admonishment, .organizationalHandling, .partyDiscipline, .governmentSanction]
        }
    }
}

/// Whom an accountability measure is aimed at.
public enum TargetKind: String, Vocabulary {
    case unit, person
    public var number: Int {
        switch self {
        case .unit: 1
        case .person: 2
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .unit
        case 2: self = .person
        default: return nil
        }
    }
    public var label: String { self == .unit ? "单位" : "个人" }
}

/// Where a problem stands in its life (docs/rules.md, "The problem lifecycle").
public enum ProblemStatus: String, Vocabulary, Comparable {
    case reported, assigned, submitted, closed, withdrawn
    public var number: Int {
        switch self {
        case .reported: 1
        case .assigned: 2
        case .submitted: 3
        case .closed: 4
        case .withdrawn: 5
        }
    }

    public init?(number: Int) {
        switch number {
        case 1: self = .reported
        case 2: self = .assigned
        case 3: self = .submitted
        case 4: self = .closed
        case 5: self = .withdrawn
        default: return nil
        }
    }
    public var label: String {
        switch self {
        case .reported: "待交办"
        case .assigned: "已交办"
        case .submitted: "待核实"
        case .closed: "已销号"
        case .withdrawn: "已撤销（不属实）"
        }
    }
    /// `label(code)`, as refusals name a status: `已销号(closed)`.
    public var named: String { "\(label)(\(rawValue))" }

    /// In the order of a problem's life.
    public static func < (a: ProblemStatus, b: ProblemStatus) -> Bool { a.number < b.number }
}

/// How a registered unit, list or person is written where clerks read it.
public enum Named {
    /// The name with the id beside it, `城管执法大队（U-cgzf）`; the id alone when there is no name.
    public static func withID(_ name: String?, _ id: String) -> String { name.map { "\($0)（\(id)）" } ?? id }
}
