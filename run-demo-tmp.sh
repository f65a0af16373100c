set -u
ip link set lo up
export PATH=$PWD/node_modules/.bin:$PATH
node cli/bin.js stack down >/dev/null 2>&1
t0=$(date +%s.%N)
setsid npm run demo > /tmp/ui-demo.out 2>&1 &
DEMO=$!
node measure-tmp.ts $t0
for i in $(seq 1 120); do grep -q "Where to look" /tmp/ui-demo.out && break; sleep 1; done
echo "demo printed after $(echo "$(date +%s.%N) - $t0" | bc) s"
sleep 5
node scripts/screenshots.ts
kill -INT -$DEMO
for i in $(seq 1 60); do kill -0 $DEMO 2>/dev/null || break; sleep 1; done
node cli/bin.js stack down >/dev/null 2>&1
