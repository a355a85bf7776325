package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Lua script that appends one entry to a cluster stream, atomically with the checks that make delivery exactly
 * once and in each node's order whatever retries and outages do:
 * <ul>
 *   <li>epoch: the stream's epoch key is created with the stream; a sender that expected another epoch (or one that
 *       is gone: Redis lost its data) gets {@link Status#EPOCH} and nothing is added, so that it can first send again
 *       what the lost stream may not have delivered;
 *   <li>sequence: each sending node numbers its entries per stream; an entry at or below the node's last one is a
 *       {@link Status#DUPLICATE} (a retry of an entry that made it), one past it is added, one further is a
 *       {@link Status#GAP} (an earlier entry did not make it: the sender retries from there). The first entry of a
 *       node in an epoch must be the number the sender says it starts with.
 * </ul>
 * The entry gets fields {@code e} (epoch), {@code o} (origin: node), {@code s} (sequence) and the caller's, and the
 * stream is trimmed to about {@code maxlen} entries ({@code MAXLEN ~}).
 *
 * <p>KEYS: stream, epoch key, sequence hash. ARGV: expected epoch ("" when none yet), new epoch (used if the stream
 * has none), maxlen, origin, sequence, first sequence of the sender in this epoch, then field/value pairs.
 */
final class AppendScript {

    static final String SOURCE = """
            local e = redis.call('GET', KEYS[2])
            if not e then
              e = ARGV[2]
              redis.call('SET', KEYS[2], e)
              if ARGV[1] ~= '' then return {'epoch', e} end
            elseif ARGV[1] ~= '' and e ~= ARGV[1] then
              return {'epoch', e}
            end
            local seq = tonumber(ARGV[5])
            local last = tonumber(redis.call('HGET', KEYS[3], ARGV[4]) or '0')
            if seq <= last then return {'dup', e} end
            if (last == 0 and seq ~= tonumber(ARGV[6])) or (last > 0 and seq ~= last + 1) then
              return {'gap', e, tostring(last)}
            end
            redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
            local fields = {'e', e, 'o', ARGV[4], 's', ARGV[5]}
            for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
            local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
            return {'ok', e, id}
            """;

    /** SHA-1 of {@link #SOURCE}, for EVALSHA. */
    static final String SHA = sha1(SOURCE);

    /** What an append did. */
    enum Status {
        /** Added: {@link Result#id()} is the entry id. */
        OK,
        /** Already there (a retry): nothing added. */
        DUPLICATE,
        /** An earlier entry of this node is missing: nothing added; {@link Result#last()} is the last one there. */
        GAP,
        /** The stream's epoch is not the expected one (Redis lost its data): nothing added. */
        EPOCH
    }

    /**
     * @param status what happened
     * @param epoch the stream's epoch
     * @param id the new entry's id ({@link Status#OK}), else {@code null}
     * @param last the sender's last sequence number in the stream ({@link Status#GAP}), else 0
     */
    record Result(Status status, String epoch, @Nullable String id, long last) {

        /** Reads the script's reply: a list of bulk strings. */
        static Result of(List<?> reply) {
            String status = text(reply.get(0));
            String epoch = text(reply.get(1));
            return switch (status) {
                case "ok" -> new Result(Status.OK, epoch, text(reply.get(2)), 0);
                case "dup" -> new Result(Status.DUPLICATE, epoch, null, 0);
                case "gap" -> new Result(Status.GAP, epoch, null, Long.parseLong(text(reply.get(2))));
                case "epoch" -> new Result(Status.EPOCH, epoch, null, 0);
                default -> throw new IllegalStateException("unexpected reply of the append script: " + reply);
            };
        }
    }

    private AppendScript() {}

    static String text(@Nullable Object value) {
        if (value instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return String.valueOf(value);
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
