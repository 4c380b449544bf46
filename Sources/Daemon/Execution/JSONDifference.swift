import Foundation

/// Where two JSON documents first differ, by path ("$.counts[2].count"), with both values as JSON text.
enum JSONDifference {
    struct Found: Equatable {
        var path: String
        var left: String
        var right: String
    }

    static func first(_ left: Data, _ right: Data) -> Found? {
        guard left != right else { return nil }
        let leftObject = try? JSONSerialization.jsonObject(with: left, options: [.fragmentsAllowed])
        let rightObject = try? JSONSerialization.jsonObject(with: right, options: [.fragmentsAllowed])
        guard let leftObject, let rightObject else {
            return Found(
                path: "$", left: String(decoding: left, as: UTF8.self), right: String(decoding: right, as: UTF8.self))
        }
        return first(leftObject, rightObject, path: "$")
            ?? Found(
                path: "$", left: String(decoding: left, as: UTF8.self), right: String(decoding: right, as: UTF8.self))
    }

    static func first(_ left: Any, _ right: Any, path: String) -> Found? {
        switch (left, right) {
        case (let left as [String: Any], let right as [String: Any]):
            for key in Set(left.keys).union(right.keys).sorted() {
                guard let leftValue = left[key] else {
                    return Found(path: "\(path).\(key)", left: "(absent)", right: text(right[key]!))
                }
                guard let rightValue = right[key] else {
                    return Found(path: "\(path).\(key)", left: text(leftValue), right: "(absent)")
                }
                if let found = first(leftValue, rightValue, path: "\(path).\(key)") { return found }
            }
            return nil
        case (let left as [Any], let right as [Any]):
            for index in 0..<max(left.count, right.count) {
                guard index < left.count else {
                    return Found(path: "\(path)[\(index)]", left: "(absent)", right: text(right[index]))
                }
                guard index < right.count else {
                    return Found(path: "\(path)[\(index)]", left: text(left[index]), right: "(absent)")
                }
                if let found = first(left[index], right[index], path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            let (leftText, rightText) = (text(left), text(right))
            return leftText == rightText ? nil : Found(path: path, left: leftText, right: rightText)
        }
    }

    /// Every leaf of a JSON document by path, for spec diffs.
    static func leaves(_ value: Any, path: String = "", into result: inout [String: String]) {
        switch value {
        case let object as [String: Any]:
            for (key, child) in object { leaves(child, path: path.isEmpty ? key : "\(path).\(key)", into: &result) }
        case let array as [Any]:
            result[path] = text(array)
        default:
            result[path] = text(value)
        }
    }

    static func text(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
