<?php
// D = 1 s
sleep(1);
echo "slept pid=" . getmypid() . "\n";
