/// `torch.topk(values, k)` on CPU, reproduced down to which of several equal values it keeps.
///
/// Confidences tie often (probabilities that round to exactly 1.0 in f32, typically on EOS
/// padding), and the reference commits whichever tied positions torch's selection happens to
/// leave in front. torch (ATen `topk_impl_loop`) fills (value, index) pairs and runs
/// `std::partial_sort` when k·64 ≤ n, else `std::nth_element`, with the comparator
/// "x > y, NaN largest"; the selected set is the first k pairs. Both algorithms are
/// reimplemented here exactly as libstdc++ writes them (introselect with median-of-three
/// pivots, insertion sort below 4 elements, heap select), which PyTorch's Linux builds use.
public enum ReferenceTopK {
    typealias Element = (value: Double, index: Int)

    /// Indices of the k largest values, as the set torch.topk returns (in no particular order).
    public static func select(_ values: [Double], k: Int) -> [Int] {
        guard k > 0, !values.isEmpty else { return [] }
        let k = min(k, values.count)
        var queue: [Element] = values.enumerated().map { ($0.element, $0.offset) }
        if k * 64 <= queue.count {
            heapSelect(&queue, 0, k, queue.count)
        } else {
            nthElement(&queue, nth: k - 1)
        }
        return queue[0..<k].map(\.index)
    }

    /// The comparator: x before y when x is larger, NaN counting as the largest.
    @inline(__always)
    static func before(_ x: Element, _ y: Element) -> Bool {
        (x.value.isNaN && !y.value.isNaN) || x.value > y.value
    }

    // MARK: std::nth_element (libstdc++ __introselect)

    static func nthElement(_ a: inout [Element], nth: Int) {
        var first = 0, last = a.count
        guard nth < last else { return }
        var depthLimit = 2 * floorLog2(last - first)
        while last - first > 3 {
            if depthLimit == 0 {
                heapSelect(&a, first, nth + 1, last)
                a.swapAt(first, nth)
                return
            }
            depthLimit -= 1
            let cut = unguardedPartitionPivot(&a, first, last)
            if cut <= nth { first = cut } else { last = cut }
        }
        insertionSort(&a, first, last)
    }

    static func floorLog2(_ n: Int) -> Int { Int.bitWidth - 1 - n.leadingZeroBitCount }

    static func unguardedPartitionPivot(_ a: inout [Element], _ first: Int, _ last: Int) -> Int {
        let mid = first + (last - first) / 2
        moveMedianToFirst(&a, first, first + 1, mid, last - 1)
        return unguardedPartition(&a, first + 1, last, pivot: first)
    }

    static func moveMedianToFirst(_ a: inout [Element], _ result: Int, _ x: Int, _ y: Int, _ z: Int) {
        if before(a[x], a[y]) {
            if before(a[y], a[z]) { a.swapAt(result, y) }
            else if before(a[x], a[z]) { a.swapAt(result, z) }
            else { a.swapAt(result, x) }
        } else if before(a[x], a[z]) { a.swapAt(result, x) }
        else if before(a[y], a[z]) { a.swapAt(result, z) }
        else { a.swapAt(result, y) }
    }

    static func unguardedPartition(_ a: inout [Element], _ first: Int, _ last: Int, pivot: Int) -> Int {
        var first = first, last = last
        while true {
            while before(a[first], a[pivot]) { first += 1 }
            last -= 1
            while before(a[pivot], a[last]) { last -= 1 }
            if !(first < last) { return first }
            a.swapAt(first, last)
            first += 1
        }
    }

    static func insertionSort(_ a: inout [Element], _ first: Int, _ last: Int) {
        guard first != last else { return }
        var i = first + 1
        while i < last {
            let value = a[i]
            if before(value, a[first]) {
                var j = i
                while j > first { a[j] = a[j - 1]; j -= 1 }
                a[first] = value
            } else {
                var hole = i, next = i - 1
                while before(value, a[next]) { a[hole] = a[next]; hole = next; next -= 1 }
                a[hole] = value
            }
            i += 1
        }
    }

    // MARK: heap selection (libstdc++ __heap_select, __make_heap, __pop_heap, __adjust_heap)

    /// Leaves the (middle - first) largest elements of [first, last) in [first, middle).
    static func heapSelect(_ a: inout [Element], _ first: Int, _ middle: Int, _ last: Int) {
        makeHeap(&a, first, middle)
        var i = middle
        while i < last {
            if before(a[i], a[first]) {
                let value = a[i]
                a[i] = a[first]
                adjustHeap(&a, first, hole: 0, length: middle - first, value: value)
            }
            i += 1
        }
    }

    static func makeHeap(_ a: inout [Element], _ first: Int, _ last: Int) {
        let length = last - first
        guard length >= 2 else { return }
        var parent = (length - 2) / 2
        while true {
            adjustHeap(&a, first, hole: parent, length: length, value: a[first + parent])
            if parent == 0 { return }
            parent -= 1
        }
    }

    static func adjustHeap(_ a: inout [Element], _ first: Int, hole: Int, length: Int, value: Element) {
        let top = hole
        var hole = hole, child = hole
        while child < (length - 1) / 2 {
            child = 2 * (child + 1)
            if before(a[first + child], a[first + child - 1]) { child -= 1 }
            a[first + hole] = a[first + child]
            hole = child
        }
        if length & 1 == 0 && child == (length - 2) / 2 {
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        }
        // __push_heap
        var parent = (hole - 1) / 2
        while hole > top && before(a[first + parent], value) {
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        a[first + hole] = value
    }
}
