package org.routecal.corpus;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Stratified, seeded sampling by domain. Quotas: at most {@code perDomain} from each domain, and at most
 * {@code total} overall, spread as evenly as the domains' sizes allow (a small domain gives its unused share to the
 * others; remainders go to domains in name order). Within a domain the rows are shuffled with a {@link Random}
 * seeded from the seed and the domain name, and the first quota rows are kept; the result is in corpus order.
 * The same corpus, options and seed always give the same samples.
 */
final class DomainSampler {
    private DomainSampler() { }

    /** @param domainOfRow the domain of each candidate row, in corpus order; returns the kept row positions, ascending */
    static List<Integer> sample(List<String> domainOfRow, int perDomain, int total, long seed) {
        Map<String, List<Integer>> byDomain = new TreeMap<>();
        for (int i = 0; i < domainOfRow.size(); i++) byDomain.computeIfAbsent(domainOfRow.get(i), d -> new ArrayList<>()).add(i);
        Map<String, Integer> quota = quotas(byDomain, perDomain, total);
        List<Integer> kept = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byDomain.entrySet()) {
            List<Integer> rows = new ArrayList<>(e.getValue());
            int q = quota.get(e.getKey());
            if (q < rows.size()) {
                Collections.shuffle(rows, new Random(seed * 1_000_003L + e.getKey().hashCode()));
                rows = rows.subList(0, q);
            }
            kept.addAll(rows);
        }
        Collections.sort(kept);
        return kept;
    }

    static Map<String, Integer> quotas(Map<String, List<Integer>> byDomain, int perDomain, int total) {
        Map<String, Integer> cap = new TreeMap<>();
        byDomain.forEach((d, rows) -> cap.put(d, perDomain > 0 ? Math.min(perDomain, rows.size()) : rows.size()));
        int capSum = cap.values().stream().mapToInt(Integer::intValue).sum();
        if (total <= 0 || total >= capSum) return cap;
        Map<String, Integer> quota = new TreeMap<>();
        cap.keySet().forEach(d -> quota.put(d, 0));
        int left = total;
        while (left > 0) {
            List<String> open = new ArrayList<>();
            cap.forEach((d, c) -> { if (quota.get(d) < c) open.add(d); });
            int share = left / open.size();
            if (share == 0) { // fewer rows left than open domains: one each, in name order
                for (int i = 0; i < left; i++) quota.merge(open.get(i), 1, Integer::sum);
                break;
            }
            for (String d : open) {
                int give = Math.min(share, cap.get(d) - quota.get(d));
                quota.merge(d, give, Integer::sum);
                left -= give;
            }
        }
        return quota;
    }
}
