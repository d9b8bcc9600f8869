// civic-verify-proof: checks an offline proof of civic events (docs/transparency.md, "Proof bundles")
// with no store and no LMDB: the log's signature against a pinned verifier key, witnesses' cosignatures
// against a policy (k of n), each inclusion proof, each leaf recomputed from the bundled bytes; then prints
// the events in Chinese. Exit 0 when everything holds, 1 naming what failed, 2 for a usage error.
//
//   civic-verify-proof --vkey VKEY [--witness VKEY]… [--need K] FILE
import Campaign
import Foundation
import Transparency
import Wire

func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data(("校验失败：" + message + "\n").utf8))
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var vkey: VerifierKey?
var witnesses: [VerifierKey] = []
var need: Int?
var file: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else { fail("\(argument) 后缺少取值", status: 2) }
        return arguments.removeFirst()
    }
    do {
        switch argument {
        case "--vkey": vkey = try VerifierKey(parsing: value())
        case "--witness": witnesses.append(try VerifierKey(parsing: value()))
        case "--need":
            guard let k = Int(value()), k >= 0 else { fail("--need 须为非负整数", status: 2) }
            need = k
        case "-h", "--help":
            print("用法：civic-verify-proof --vkey 日志验证密钥 [--witness 见证方联署密钥]… [--need K] 证明文件")
            exit(0)
        default:
            guard file == nil, !argument.hasPrefix("-") else { fail("无法识别的参数 \(argument)", status: 2) }
            file = argument
        }
    } catch {
        fail("\(error)", status: 2)
    }
}
guard let vkey, let file else { fail("须给出 --vkey 与证明文件", status: 2) }
let k = need ?? witnesses.count
guard k <= witnesses.count else { fail("--need \(k) 多于给出的见证方（\(witnesses.count) 个）", status: 2) }
guard let data = FileManager.default.contents(atPath: file) else { fail("无法读取 \(file)", status: 2) }

let proven: [ProofBundle.Proven]
do { proven = try ProofBundle.check(String(decoding: data, as: UTF8.self), log: vkey, witnesses: witnesses, need: k) } catch { fail(error.description) }

var lines: [String] = []
for (n, proof) in proven.enumerated() {
    // The leaf holds: the bytes are the log's. Read them as the log does.
    let value = [UInt8](repeating: 0, count: 32) + proof.entry
    let line: String? = value.withUnsafeBytes { raw in
        guard let entry = try? EntryView(raw), entry.seq == proof.index + 1,
              let event = try? EventCodec.decode(entry.body, id: entry.idString, subject: entry.subjectString) else { return nil }
        let recorded = Timestamp(micros: entry.recordedAtMicros).inOffset(Timestamp.chinaOffset).rfc3339
        let by = entry.recordedBy.count > 0 ? "，登记人 \(entry.recordedByString)" : ""
        return "seq \(entry.seq)（\(event.subject) 第 \(entry.version) 个事件）\(event.time.inOffset(Timestamp.chinaOffset).rfc3339) "
            + "\(event.type.label)：\(event.actor)（\(event.role.label)\(event.actorUnit.map { "，\($0)" } ?? "")）；登记于 \(recorded)\(by)；事件 id \(event.id)"
    }
    guard let line else { fail("第 \(n + 1) 个证明（index \(proof.index)）：条目字节不是 civic 的事件，或其 seq 与 index 不符") }
    lines.append(line)
}
let sizes = Set(proven.map(\.checkpoint.size)).sorted()
print("校验通过：\(proven.count) 个事件均在日志 \(vkey.name) 中（检查点大小 \(sizes.map(String.init).joined(separator: "、"))，签名有效"
      + (witnesses.isEmpty ? "" : "，\(k) 个以上见证方联署") + "），事件内容由原始字节重算：")
for line in lines { print("  " + line) }
