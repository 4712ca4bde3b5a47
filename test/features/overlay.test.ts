import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, stepsWhere } from '../course/expectations.ts';
import { value } from '../harness/outcome.ts';
import { inSandbox } from '../harness/sandbox.ts';

// An image made from a tarball: the busybox root filesystem plus /data, whose files
// anyone may change and delete (the container's root is a range of host IDs of its
// own, chosen as it starts: shared/userns/id-ranges.ts). The rest belongs to the host's root.
const MAKE_IMAGE = String.raw`
mkdir -p "$SANDBOX_DIR/extra/data"
echo original >"$SANDBOX_DIR/extra/data/notes.txt"
echo doomed >"$SANDBOX_DIR/extra/data/doomed.txt"
chmod 777 "$SANDBOX_DIR/extra/data"; chmod 666 "$SANDBOX_DIR/extra/data"/*
tar -cf "$SANDBOX_DIR/img.tar" -C "$CONTAINERFS" . -C "$SANDBOX_DIR/extra" data
npm run -s image -- import mybox "$SANDBOX_DIR/img.tar"; echo "import=$?"
img="$CONTAINER_STATE/images/mybox"
fingerprint() { (cd "$img" && find . -printf '%p %s %m %U %i %T@\n' | sort | md5sum); }
`;

for (const step of stepsWhere('writes-reach-rootfs', false)) {
  describe.concurrent(`step ${step}: images and writable layers`, () => {
    const sandbox = (script: string) => inSandbox(MAKE_IMAGE + script, { step, ...inject('sandbox') });

    it('written, changed and deleted files stay in the container: the image is untouched, and the layer is gone after', async () => {
      const outcome = await sandbox(String.raw`
        before=$(fingerprint); overlays=$(grep -c overlay /proc/mounts)
        run --image mybox sh -c 'echo new >/tmp/new; echo changed >>/data/notes.txt; rm /data/doomed.txt
          echo "inside_notes=$(cat /data/notes.txt | tr "\n" " ")"; echo "inside_data=$(ls /data | tr "\n" " ")"'
        echo "status=$?"
        echo "image_unchanged=$([ "$(fingerprint)" = "$before" ] && echo yes || echo no)"
        echo "next=$(run --image mybox sh -c 'cat /data/notes.txt; ls /data; ls /tmp' | tr '\n' ' ')"
        echo "layers=$(ls "$CONTAINER_STATE/containers" | wc -l)"
        echo "overlay_mounts=$(( $(grep -c overlay /proc/mounts) - overlays ))"`);
      expect(value(outcome, 'import'), outcome.stderr).toBe('0');
      expect(value(outcome, 'status'), outcome.stderr).toBe('0');
      expect(value(outcome, 'inside_notes')).toBe('original changed ');
      expect(value(outcome, 'inside_data')).toBe('notes.txt ');
      expect(value(outcome, 'image_unchanged')).toBe('yes');
      expect(value(outcome, 'next')).toBe('original doomed.txt notes.txt '); // and an empty /tmp
      expect(value(outcome, 'layers')).toBe('0');
      expect(value(outcome, 'overlay_mounts')).toBe('0'); // none added: the overlay lived in the container's mount namespace
    });

    it("two containers of one image, at the same time, do not see each other's writes", async () => {
      // Each writes, says so on its stdout, then reads a line on its stdin before it
      // looks. a's stdout is b's stdin (a pipe), b's stdout is a's stdin (a fifo): each
      // looks once the other has written, and neither ends before the other has spoken.
      // So both run at once, or neither ends (and the sandbox's time runs out). Each
      // says what it heard: the other's word, not an end of file.
      const outcome = await sandbox(String.raw`
        WRITE_WAIT_LOOK='me=$0; echo "$me" >"/tmp/from-$me"; echo "$me" >>/data/notes.txt; echo "$me-wrote"
          read -r heard; echo "$me-heard=$heard" >&2
          echo "$me-sees=$(ls /tmp | tr "\n" " ")$(cat /data/notes.txt | tr "\n" " ")" >&2'
        mkfifo "$SANDBOX_DIR/to-a"
        run --image mybox sh -c "$WRITE_WAIT_LOOK" a <"$SANDBOX_DIR/to-a" 2>"$SANDBOX_DIR/a" |
          run --image mybox sh -c "$WRITE_WAIT_LOOK" b >"$SANDBOX_DIR/to-a" 2>"$SANDBOX_DIR/b"
        cat "$SANDBOX_DIR/a" "$SANDBOX_DIR/b"`);
      expect(value(outcome, 'a-heard'), outcome.stdout + outcome.stderr).toBe('b-wrote');
      expect(value(outcome, 'b-heard')).toBe('a-wrote');
      expect(value(outcome, 'a-sees')).toBe('from-a original a ');
      expect(value(outcome, 'b-sees')).toBe('from-b original b ');
    });

    it('--keep keeps the layer, which holds only what was written: starting copies nothing', async () => {
      const outcome = await sandbox(String.raw`
        inode=$(stat -c %i "$img/bin/busybox")
        run --keep --image mybox sh -c 'echo kept >/tmp/kept' 2>"$SANDBOX_DIR/err"; echo "status=$?"
        layer=$(sed -n 's/^writable layer kept: //p' "$SANDBOX_DIR/err")
        echo "kept=$(cat "$layer/upper/tmp/kept")"
        echo "upper_files=$(cd "$layer/upper" && find . -type f | sort | tr '\n' ' ')"
        echo "image_kb=$(du -sk "$img" | cut -f1)"
        echo "upper_kb=$(du -sk "$layer/upper" | cut -f1)"
        run --image mybox true
        echo "same_inode=$([ "$(stat -c %i "$img/bin/busybox")" = "$inode" ] && echo yes || echo no)"
        echo "layers=$(ls "$CONTAINER_STATE/containers" | wc -l)"
        node scripts/clean.ts >/dev/null; echo "after_clean=$(ls "$CONTAINER_STATE/containers" | wc -l)"
        node scripts/clean.ts --kept >/dev/null; echo "after_clean_kept=$(ls "$CONTAINER_STATE/containers" | wc -l)"`);
      expect(value(outcome, 'status'), outcome.stderr).toBe('0');
      expect(value(outcome, 'after_clean')).toBe('1'); // clean leaves a kept layer alone
      expect(value(outcome, 'after_clean_kept')).toBe('0'); // unless told --kept
      expect(value(outcome, 'kept')).toBe('kept');
      // From step 12 on, the runtime writes the container's /etc/resolv.conf there too.
      const resolvConf = EXPECTED[step]!['reaches-other-container'] ? './etc/resolv.conf ' : '';
      expect(value(outcome, 'upper_files')).toBe(`${resolvConf}./tmp/kept `);
      expect(Number(value(outcome, 'image_kb'))).toBeGreaterThan(1000); // busybox alone: ~2 MB
      expect(Number(value(outcome, 'upper_kb'))).toBeLessThan(50);
      expect(value(outcome, 'same_inode')).toBe('yes');
      expect(value(outcome, 'layers')).toBe('1'); // the kept one only
    });

    it('images: list, a missing image (125), a bad name (2), a bad tarball, rm', async () => {
      const outcome = await sandbox(String.raw`
        echo "list=$(npm run -s image -- list | cut -f1 | tr '\n' ' ')"
        run --image nosuch true 2>"$SANDBOX_DIR/err"; echo "missing=$?"; echo "missing_err=$(grep -v '^Running' "$SANDBOX_DIR/err")"
        run --image Bad/Name true 2>/dev/null; echo "bad=$?"
        echo garbage >"$SANDBOX_DIR/bad.tar"
        npm run -s image -- import broken "$SANDBOX_DIR/bad.tar" 2>/dev/null; echo "broken=$?"
        echo "after_broken=$(ls -A "$CONTAINER_STATE/images" | tr '\n' ' ')"
        npm run -s image -- rm mybox 2>/dev/null; echo "rm=$?"
        echo "after_rm=$(ls -A "$CONTAINER_STATE/images" | wc -l)"`);
      expect(value(outcome, 'list')).toBe('busybox mybox ');
      expect(value(outcome, 'missing')).toBe('125');
      expect(value(outcome, 'missing_err')).toMatch(/^no image named nosuch: pull it \(npm run image -- pull nosuch\) or import one/);
      expect(value(outcome, 'bad')).toBe('2');
      expect(value(outcome, 'broken')).toBe('1');
      expect(value(outcome, 'after_broken')).toBe('mybox '); // no half-imported image left
      expect(value(outcome, 'rm')).toBe('0');
      expect(value(outcome, 'after_rm')).toBe('0');
    });
  });

  // A learner who ran step 05 has its /proc mount left on /containerfs/proc. In the
  // container's mount namespace that mount is locked, and overlayfs refuses an image
  // with locked mounts below it: the runtime must make the overlay where none is locked.
  describe(`step ${step}: after step 05`, () => {
    it("the busybox image still starts with step 05's /proc mount left on it", async () => {
      const outcome = await inSandbox(
        String.raw`
        node steps/05-chroot-proc/main.ts run true 2>/dev/null
        echo "left_by_05=$(grep -c " $CONTAINERFS/proc " /proc/mounts)"
        run sh -c 'echo "root=$(grep " / " /proc/mounts | cut -d" " -f1,3)"'; echo "status=$?"`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'left_by_05')).toBe('1');
      expect(value(outcome, 'status'), outcome.stderr).toBe('0');
      expect(value(outcome, 'root')).toBe('overlay overlay');
    });
  });
}
